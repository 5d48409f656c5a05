"""The inbox's retention against real PostgreSQL: old ids go in batches, recent ones keep
refusing redeliveries, one replica prunes at a time, and a retention shorter than the
redelivery horizon (topic retention + replay window + margin) is refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from wattline_platform import inbox, leases
from wattline_platform.config import ServiceSettings
from wattline_platform.db import Database
from wattline_platform.service import Service, ServiceSpec
from wattline_platform.topics import load_topics, longest_retention

TOPIC = "datahub.measure_data.received"
EVENT_TYPE = "MeasureDataReceivedV1"


async def _consume(db: Database, count: int, *, days_ago: int) -> list[uuid.UUID]:
    """*count* events recorded as applied *days_ago* days ago."""
    ids = [uuid.uuid4() for _ in range(count)]
    async with db.transaction() as tx:
        assert await inbox.record_many(tx, [(i, TOPIC, EVENT_TYPE) for i in ids]) == set(ids)
        await tx.execute(
            "UPDATE inbox SET processed_at = now() - make_interval(days => $2)"
            " WHERE event_id = ANY($1::uuid[])",
            ids,
            days_ago,
        )
    return ids


async def _kept(db: Database) -> set[uuid.UUID]:
    async with db.connection() as conn:
        return {r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox")}


async def test_ids_older_than_the_retention_go_in_batches_and_recent_ones_still_deduplicate(
    schema_db: Database,
) -> None:
    old = await _consume(schema_db, 23, days_ago=50)
    recent = await _consume(schema_db, 4, days_ago=44)
    pruner = inbox.pruner(schema_db.pool, schema_db.schema, timedelta(days=45), batch_size=5)
    async with schema_db.connection() as conn:
        assert await pruner.prune(conn) == 23  # five batches of 5 or fewer
        assert await pruner.prune(conn) == 0  # nothing left that old

    assert await _kept(schema_db) == set(recent)
    async with schema_db.transaction() as tx:  # a redelivery of a kept event: a duplicate
        assert await inbox.record(tx, recent[0], TOPIC, EVENT_TYPE) is False
    assert old[0] not in await _kept(schema_db)


async def test_only_the_replica_holding_the_lease_prunes(schema_db: Database) -> None:
    await _consume(schema_db, 3, days_ago=60)
    pruner = inbox.pruner(schema_db.pool, schema_db.schema, timedelta(days=45), interval_s=0.05)
    async with leases.held(schema_db.pool, f"inbox-prune:{schema_db.schema}") as other:
        assert other is not None  # another replica prunes this schema
        task = asyncio.create_task(pruner.run())
        await asyncio.sleep(0.5)  # ten rounds, each refused the lease
        assert len(await _kept(schema_db)) == 3
    for _ in range(100):  # released: the next round takes the lease and prunes
        if not await _kept(schema_db):
            break
        await asyncio.sleep(0.05)
    pruner.stop()
    await asyncio.wait_for(task, 5)
    assert await _kept(schema_db) == set()


def test_the_topics_say_how_long_the_broker_can_redeliver() -> None:
    specs = load_topics()
    measure_data = next(s for s in specs if s.name == TOPIC)
    assert measure_data.config["retention.ms"] == "604800000"  # the defaults' config
    assert longest_retention(specs) == timedelta(days=7)


def test_a_retention_shorter_than_the_redelivery_horizon_is_refused() -> None:
    week, month = timedelta(days=7), timedelta(days=30)
    inbox.check_retention(timedelta(days=38), broker_retention=week, replay_window=month)
    with pytest.raises(inbox.RetentionTooShort, match="at least 38 days"):
        inbox.check_retention(timedelta(days=37), broker_retention=week, replay_window=month)
    with pytest.raises(inbox.RetentionTooShort, match="keeps its records forever"):
        inbox.check_retention(timedelta(days=400), broker_retention=None, replay_window=month)


def test_a_service_with_too_short_an_inbox_retention_refuses_to_start(tmp_path: Path) -> None:
    spec = ServiceSpec("demo", migrations_dir=tmp_path, schema="demo")
    with pytest.raises(inbox.RetentionTooShort, match="inbox retention 20 days"):
        Service(spec, ServiceSettings(inbox_retention_days=20))
    # A longer replay window raises the bound with it: 45 days no longer do for 40 of outbox.
    with pytest.raises(inbox.RetentionTooShort, match="at least 48 days"):
        Service(spec, ServiceSettings(outbox_retention_days=40))
    Service(spec, ServiceSettings(inbox_retention_days=0))  # keep forever: nothing to check
    Service(spec, ServiceSettings())  # the defaults are safe
