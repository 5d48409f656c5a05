"""The running reconciliation service on the real broker: the other services' events arrive as
published, the job reconciles, and the deviation goes out on its own topic."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from wattline_contracts.datahub import AggregationsReceivedV1, MeasureDataReceivedV1
from wattline_contracts.envelope import Event
from wattline_contracts.portfolio import MeteringPointRegisteredV1, SupplyPeriodChangedV1
from wattline_platform import outbox
from wattline_platform.broker import KafkaPublisher, make_broker
from wattline_platform.config import PlatformSettings
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app
from wattline_platform.topics import ensure_topics, load_topics
from wattline_reconciliation.bootstrap import SPEC, wire
from wattline_reconciliation.settings import ReconciliationSettings

GSRN = "571313100000007911"
DAY = date(2026, 2, 3)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo("Europe/Copenhagen"))


async def publish(db: Any, bootstrap: str, events: list[tuple[Event, str]]) -> None:
    """Publish *events* as another service does: its outbox, then its relay."""
    async with db.transaction() as tx:
        for event, key in events:
            await outbox.append(tx, event, key=key, producer="test", schema=db.schema)
    broker = make_broker(PlatformSettings(kafka_bootstrap=bootstrap), "test-relay")
    await broker.start()
    try:
        relay = outbox.OutboxRelay(db.pool, db.schema, KafkaPublisher(broker, bootstrap))
        await relay.sync_epoch()
        assert await relay.publish_once() == len(events)
    finally:
        await broker.stop()


async def test_events_on_the_broker_are_reconciled_and_the_deviation_is_published(
    make_schema_db: SchemaFactory,
    postgres_dsn: str,
    kafka_bootstrap: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", kafka_bootstrap)
    await ensure_topics(kafka_bootstrap, load_topics())
    rec = wire(ReconciliationSettings(database_url=postgres_dsn, job_interval_s=0.2))
    rec.service.db = await make_schema_db(SPEC.migrations_dir)
    assert rec.service.consumer is not None
    rec.service.consumer.db = rec.service.db  # the consumer applies to the test's schema too
    totals = [Decimal("0.800")] * 24
    totals[9] = Decimal("1.300")  # DataHub: 0.500 kWh more than we metered at 09:00
    await publish(
        await make_schema_db(),
        kafka_bootstrap,
        [
            (MeteringPointRegisteredV1(gsrn=GSRN, grid_area="791", price_area="DK1"), GSRN),
            (SupplyPeriodChangedV1(supply_period_id=str(uuid.uuid4()), gsrn=GSRN,
                                   customer_id="c-1", start_date=date(2026, 1, 1),
                                   reason="started"), GSRN),
            (MeasureDataReceivedV1(datahub_message_id="m-1", transaction_id="t-1", gsrn=GSRN,
                                   metering_point_type="E17", local_date=DAY, resolution="PT1H",
                                   quantities_kwh=[Decimal("0.800")] * 24,
                                   qualities=["A04"] * 24), GSRN),
            (AggregationsReceivedV1(datahub_message_id="m-2", transaction_id="t-2",
                                    process_type="D04", grid_area="791",
                                    metering_point_type="E17", settlement_method="D01",
                                    resolution="PT1H", start=local_midnight(DAY),
                                    end=local_midnight(DAY + timedelta(days=1)),
                                    quantities_kwh=list(totals), qualities=["A04"] * 24), "791"),
        ],
    )  # fmt: skip

    async with (
        serve_app(rec.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
    ):
        items: list[dict[str, Any]] = []
        for _ in range(300):
            response = await client.get("/api/reconciliation/results", params={"grid_area": "791"})
            items = response.json()["items"]
            if items:
                break
            await asyncio.sleep(0.1)
        assert [(i["local_date"], i["status"], i["deviation_kwh"]) for i in items] == [
            ("2026-02-03", "deviation", "-0.500")
        ]

        consumer = AIOKafkaConsumer(
            "reconciliation.deviation.detected",
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        try:
            found: list[dict[str, Any]] = []
            for _ in range(30):
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for r in records:
                        payload = json.loads(r.value)["payload"]
                        if payload["grid_area"] == "791" and r.key == b"791":
                            found.append(payload)
                if found:
                    break
        finally:
            await consumer.stop()
    [event] = found
    [hour] = event["hours"]
    assert (hour["hour_start"][:19], hour["deviation_kwh"], hour["deviation_percent"]) == (
        "2026-02-03T08:00:00",
        "-0.500",
        "-38.46",
    )
