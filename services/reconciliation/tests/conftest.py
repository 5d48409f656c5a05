"""The reconciliation service over real HTTP on a real Postgres schema. The other services'
facts arrive as their events (``Rig.deliver``), exactly as the consumer hands them to the
handlers; ``Rig.reconcile`` runs the job's step."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from wattline_contracts.datahub import AggregationsReceivedV1, MeasureDataReceivedV1
from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.portfolio import MeteringPointRegisteredV1, SupplyPeriodChangedV1
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app
from wattline_reconciliation.bootstrap import SPEC, wire
from wattline_reconciliation.handlers import Reconciliation
from wattline_reconciliation.handlers.reconcile import reconcile_pending
from wattline_reconciliation.settings import ReconciliationSettings

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=COPENHAGEN)


@dataclass
class Rig:
    rec: Reconciliation
    client: httpx.AsyncClient

    async def deliver(self, event: Event) -> None:
        consumer = self.rec.service.consumer
        assert consumer is not None
        _, handler = consumer.routes[(event.TYPE, event.VERSION)]
        envelope = Envelope.wrap(event, key="k", producer="test", correlation_id="test")
        async with self.rec.service.database.transaction() as tx:
            await handler(tx, event, envelope)

    async def supplied(
        self,
        gsrn: str,
        *,
        grid_area: str = "344",
        start: date,
        end: date | None = None,
        resolution: str = "PT1H",
        mp_type: str = "E17",
        method: str | None = "D01",
    ) -> None:
        """A metering point of ours in *grid_area*, supplied from *start* until *end*."""
        await self.deliver(
            MeteringPointRegisteredV1(
                gsrn=gsrn,
                grid_area=grid_area,
                price_area="DK1",
                metering_point_type=mp_type,  # type: ignore[arg-type]
                settlement_method=method,  # type: ignore[arg-type]
                resolution=resolution,  # type: ignore[arg-type]
            )
        )
        await self.deliver(
            SupplyPeriodChangedV1(
                supply_period_id=str(uuid.uuid4()),
                gsrn=gsrn,
                customer_id="c-1",
                start_date=start,
                end_date=end,
                reason="started" if end is None else "ended",
            )
        )

    async def metered(
        self,
        gsrn: str,
        day: date,
        kwh: list[str | None],
        resolution: str = "PT1H",
        qualities: list[str | None] | None = None,
    ) -> None:
        """DataHub's validated metering data (RSM-012) for *gsrn* on local *day* (quality A04
        unless *qualities* says otherwise)."""
        await self.deliver(
            MeasureDataReceivedV1(
                datahub_message_id=str(uuid.uuid4()),
                transaction_id=str(uuid.uuid4()),
                gsrn=gsrn,
                metering_point_type="E17",
                local_date=day,
                resolution=resolution,  # type: ignore[arg-type]
                quantities_kwh=[None if q is None else Decimal(q) for q in kwh],
                qualities=["A04"] * len(kwh) if qualities is None else qualities,
            )
        )

    async def aggregated(
        self,
        day: date,
        kwh: list[str | None],
        *,
        grid_area: str = "344",
        resolution: str = "PT1H",
        process_type: str = "D04",
        version: str | None = None,
        mp_type: str = "E17",
        method: str | None = "D01",
    ) -> None:
        """DataHub's RSM-014 total for *grid_area* over local *day*."""
        start = local_midnight(day)
        await self.deliver(
            AggregationsReceivedV1(
                datahub_message_id=str(uuid.uuid4()),
                transaction_id=str(uuid.uuid4()),
                process_type=process_type,
                grid_area=grid_area,
                metering_point_type=mp_type,
                settlement_method=method,
                settlement_version=version,
                resolution=resolution,
                start=start,
                end=local_midnight(day + timedelta(days=1)),
                quantities_kwh=[None if q is None else Decimal(q) for q in kwh],
                qualities=["A04"] * len(kwh),
            )
        )

    async def reconcile(self) -> int:
        return await reconcile_pending(self.rec)

    async def events(self, topic: str) -> list[dict[str, Any]]:
        rows = await self.rec.service.database.fetch(
            "SELECT envelope FROM outbox WHERE topic = $1 ORDER BY id", topic
        )
        return [json.loads(r["envelope"])["payload"] for r in rows]


@pytest.fixture
async def rig(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[Rig]:
    rec = wire(ReconciliationSettings(database_url=postgres_dsn, jobs=False))
    service = rec.service
    service.db = await make_schema_db(SPEC.migrations_dir)
    service.uses_broker = False  # the outbox is what the tests read
    async with (
        serve_app(service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
    ):
        yield Rig(rec, client)
