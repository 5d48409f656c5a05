"""The portfolio service over real HTTP, with the DataHub simulator answering address lookups.

DataHub's side of a process arrives as the datahub service's events (``Rig.deliver``), exactly
as the consumer hands them to the handlers; tests-e2e runs the same flows through the real
datahub service and the simulator's rules.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from wattline_contracts.datahub import (
    MasterDataReceivedV1,
    NotificationReceivedV1,
    ProcessAnsweredV1,
    Reason,
    RequestSentV1,
)
from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.portfolio import transaction_id_for
from wattline_platform import migrations
from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app
from wattline_portfolio import handlers
from wattline_portfolio.bootstrap import SPEC, wire
from wattline_portfolio.handlers import products, scheduler
from wattline_portfolio.settings import PortfolioSettings
from wattline_simulator.bootstrap import SPEC as SIM_SPEC
from wattline_simulator.bootstrap import build as build_simulator
from wattline_simulator.domain.seeding import SeededPoint, customer_id_for, seeded_points
from wattline_simulator.settings import SimulatorSettings

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SEED = 7
POINTS = 40
OTHER_SUPPLIER = "5799994000046"


class FixedClock:
    """Business time that moves only when a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.value = now

    async def now(self) -> datetime:
        return self.value

    def set_today(self, day: date) -> None:
        self.value = datetime.combine(day, time(10), tzinfo=COPENHAGEN).astimezone(UTC)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=COPENHAGEN).astimezone(UTC)


@dataclass
class Rig:
    service: Service
    p: handlers.Portfolio
    client: httpx.AsyncClient
    clock: FixedClock
    cipher: PiiCipher
    points: list[SeededPoint]

    # -- the market ---------------------------------------------------------------------
    def single(self, n: int = 0, *, business: bool = False) -> SeededPoint:
        """The *n*-th consumption metering point that is alone at its address."""
        counts: dict[uuid.UUID, int] = {}
        for point in self.points:
            counts[point.dar_id] = counts.get(point.dar_id, 0) + 1
        alone = [
            pt
            for pt in self.points
            if counts[pt.dar_id] == 1 and (pt.profile == "business") == business
        ]
        return alone[n]

    def shared_address(self) -> tuple[uuid.UUID, list[str]]:
        by_dar: dict[uuid.UUID, list[str]] = {}
        for point in self.points:
            by_dar.setdefault(point.dar_id, []).append(point.gsrn)
        dar, gsrns = next((d, g) for d, g in by_dar.items() if len(g) > 1)
        return dar, sorted(gsrns)

    @staticmethod
    def cpr_of(point: SeededPoint) -> str:
        return customer_id_for(point.dar_id, point.profile == "business")[1]

    def signup_body(self, point: SeededPoint, **changes: Any) -> dict[str, Any]:
        product_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "wattline:product:Spot"))
        body: dict[str, Any] = {
            "dar_id": str(point.dar_id),
            "customer_name": "Anders Jensen",
            "cpr_cvr": self.cpr_of(point),
            "contact_type": "business" if point.profile == "business" else "private",
            "email": "anders@example.dk",
            "phone": "+4512345678",
            "product_id": product_id,
            "type": "switch",
            "effective_date": "2025-03-24",
            "billing_street": "Nørrebrogade",
            "billing_house_number": "42",
            "billing_floor": "3",
            "billing_door": "th",
            "billing_postal_code": "2200",
            "billing_city": "København N",
        }
        body.update(changes)
        return body

    # -- what the service did -----------------------------------------------------------
    async def events(self, topic: str) -> list[dict[str, Any]]:
        rows = await self.service.database.fetch(
            "SELECT envelope FROM outbox WHERE topic = $1 ORDER BY id", topic
        )
        return [json.loads(r["envelope"])["payload"] for r in rows]

    async def process_of(self, signup_id: str) -> asyncpg.Record:
        row = await self.service.database.fetchrow(
            "SELECT p.* FROM process p JOIN signup s USING (process_id) WHERE s.signup_id = $1",
            signup_id,
        )
        assert row is not None
        return row

    async def status(self, signup_id: str) -> str:
        response = await self.client.get(f"/api/signup/{signup_id}/status")
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    # -- DataHub's side, as the datahub service publishes it ---------------------------
    async def deliver(self, event: Event) -> None:
        assert self.service.consumer is not None
        _, handler = self.service.consumer.routes[(event.TYPE, event.VERSION)]
        envelope = Envelope.wrap(event, key="k", producer="datahub", correlation_id="test")
        async with self.service.database.transaction() as tx:
            await handler(tx, event, envelope)

    async def raise_and_send(self) -> list[dict[str, Any]]:
        """The scheduler raises due requests; the datahub service reports each one sent."""
        before = len(await self.events("portfolio.datahub_request.raised"))
        await scheduler.raise_due(self.p)
        raised = (await self.events("portfolio.datahub_request.raised"))[before:]
        for request in raised:
            await self.deliver(
                RequestSentV1(
                    request_id=request["request_id"],
                    kind=request["kind"],
                    gsrn=request["gsrn"],
                    transaction_id=transaction_id_for(request["request_id"]),
                    sent_at=datetime.now(UTC),
                )
            )
        return raised

    async def answer(
        self, request_id: str, gsrn: str, *, accepted: bool = True, reasons: tuple[str, ...] = ()
    ) -> str:
        reference = str(uuid.uuid4())
        await self.deliver(
            ProcessAnsweredV1(
                datahub_message_id=str(uuid.uuid4()),
                process_type="E03",
                original_transaction_id=transaction_id_for(request_id),
                gsrn=gsrn,
                accepted=accepted,
                process_reference=reference if accepted else None,
                reasons=[Reason(code=c.split(":")[0], text=c.split(": ")[1]) for c in reasons],
            )
        )
        return reference

    async def master_data(self, point: SeededPoint, start: date, process_type: str = "E03") -> None:
        await self.deliver(
            MasterDataReceivedV1(
                datahub_message_id=str(uuid.uuid4()),
                transaction_id=str(uuid.uuid4()),
                process_type=process_type,
                gsrn=point.gsrn,
                validity_start=local_midnight(start),
                metering_point_type=point.metering_point_type,
                settlement_method=point.settlement_method,
                resolution=point.resolution,
                grid_area=point.grid_area,
                energy_supplier_gln="5799994000015",
                supply_start=local_midnight(start),
            )
        )

    async def notification(self, gsrn: str, start: date, process_type: str = "E03") -> None:
        await self.deliver(
            NotificationReceivedV1(
                datahub_message_id=str(uuid.uuid4()),
                transaction_id=str(uuid.uuid4()),
                process_type=process_type,
                gsrn=gsrn,
                validity_start=local_midnight(start),
            )
        )

    async def activate(self, point: SeededPoint, **changes: Any) -> str:
        """Sign *point* up and take it through DataHub's confirmation to active."""
        response = await self.client.post("/api/signup", json=self.signup_body(point, **changes))
        assert response.status_code == 201, response.text
        signup_id = str(response.json()["signup_id"])
        process = await self.process_of(signup_id)
        await self.raise_and_send()
        await self.answer(process["request_id"], point.gsrn)
        await self.master_data(point, process["effective_date"])
        assert await self.status(signup_id) == "active"
        return signup_id


@pytest.fixture
async def rig(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(postgres_dsn)
    await conn.execute("DROP SCHEMA IF EXISTS simulator CASCADE")
    await migrations.apply(conn, "simulator", SIM_SPEC.migrations())
    simulator = build_simulator(SimulatorSettings(database_url=postgres_dsn))
    cipher = PiiCipher(PiiCipher.new_key())
    try:
        async with serve_app(simulator.app()) as sim_url:
            async with httpx.AsyncClient(base_url=sim_url, auth=identity_auth()) as sim:
                seeded = await sim.post(
                    "/sim/seed", json={"metering_points": POINTS, "seed": SEED, "ours_share": 0}
                )
                assert seeded.status_code == 200, seeded.text
            settings = PortfolioSettings(
                database_url=postgres_dsn,
                address_lookup_url=sim_url + "/sim/addresses/{dar_id}",
            )
            portfolio = wire(settings, cipher)
            service = portfolio.service
            service.db = await make_schema_db(SPEC.migrations_dir)
            service.uses_broker = False  # the outbox is what the tests read
            service.background.clear()
            clock = FixedClock(datetime(2025, 3, 3, 9, tzinfo=UTC))  # Monday 3 March 2025
            service.clock = clock
            await products.ensure_default_products(portfolio)
            points = list(seeded_points(SEED, POINTS, supplier_gln=OTHER_SUPPLIER))
            async with (
                serve_app(service.app()) as url,
                httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
            ):
                yield Rig(service, portfolio, client, clock, cipher, points)
    finally:
        await conn.execute("DROP SCHEMA simulator CASCADE")
        await conn.close()
