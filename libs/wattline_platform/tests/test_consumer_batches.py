"""Batch handlers: consecutive new events of one type reach their handler together, in order,
inside the batch's transaction; alone again when the batch fails (real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord
from wattline_contracts import Envelope, Event
from wattline_platform.broker import make_broker
from wattline_platform.config import PlatformSettings
from wattline_platform.consumer import EventConsumer
from wattline_platform.testing import SchemaFactory, event_class

EFFECTS_SQL = "CREATE TABLE effects (kind text NOT NULL, n int NOT NULL, seq serial);"


def record(event: Event, offset: int, envelope: Envelope | None = None) -> ConsumerRecord[Any, Any]:
    env = envelope or Envelope.wrap(event, key="k", producer="test", correlation_id="c")
    return ConsumerRecord(
        event.topic(), 0, offset, 0, 0, b"k", env.model_dump_json().encode(), None, 0, 0, ()
    )


async def test_runs_of_one_type_are_handled_together_in_batch_order(
    make_schema_db: SchemaFactory,
) -> None:
    db = await make_schema_db(extra_sql=EFFECTS_SQL)
    bulk, single = event_class(), event_class()
    consumer = EventConsumer("test", db, make_broker(PlatformSettings(), "test"))
    calls: list[list[int]] = []
    dead: list[str] = []

    @consumer.on_batch(bulk)
    async def load(tx: asyncpg.Connection, items: Sequence[tuple[Any, Envelope]]) -> None:
        calls.append([event.n for event, _ in items])
        if any(event.n < 0 for event, _ in items):
            raise ValueError("negative")
        await tx.executemany(
            "INSERT INTO effects (kind, n) VALUES ('bulk', $1)", [(e.n,) for e, _ in items]
        )

    @consumer.on(single)
    async def apply(tx: asyncpg.Connection, event: Any, envelope: Envelope) -> None:
        await tx.execute("INSERT INTO effects (kind, n) VALUES ('single', $1)", event.n)

    async def dead_letter(rec: ConsumerRecord[Any, Any], reason: str, *, attempts: int) -> None:
        dead.append(reason)

    consumer.dead_letter = dead_letter  # type: ignore[method-assign]
    consumer.retry_backoff_s = 0.0
    assert consumer.topics == sorted([bulk.topic(), single.topic()])

    b1, b2, b3 = (bulk(n=n) for n in (1, 2, 3))  # type: ignore[call-arg]
    s1 = single(n=10)  # type: ignore[call-arg]
    first = Envelope.wrap(b1, key="k", producer="test", correlation_id="c")
    await consumer.process(
        [record(b1, 0, first), record(b2, 1), record(s1, 2), record(b3, 3), record(b1, 4, first)]
    )
    assert calls == [[1, 2], [3]]  # the duplicate of b1 is skipped by the inbox
    rows = await db.fetch("SELECT kind, n FROM effects ORDER BY seq")
    assert [(r["kind"], r["n"]) for r in rows] == [
        ("bulk", 1),
        ("bulk", 2),
        ("single", 10),
        ("bulk", 3),
    ]

    # One bad event fails its batch: then each is applied alone and the bad one dead-lettered.
    calls.clear()
    await consumer.process([record(bulk(n=4), 5), record(bulk(n=-1), 6), record(bulk(n=5), 7)])  # type: ignore[call-arg]
    assert calls[0] == [4, -1, 5] and [4] in calls and [5] in calls
    assert len(dead) == 1 and "negative" in dead[0]
    rows = await db.fetch("SELECT n FROM effects WHERE kind = 'bulk' ORDER BY seq")
    assert [r["n"] for r in rows] == [1, 2, 3, 4, 5]

    # The one-event route still applies an event on its own (as tests deliver them).
    _, handler = consumer.routes[(bulk.TYPE, bulk.VERSION)]
    async with db.transaction() as tx:
        event = bulk(n=6)  # type: ignore[call-arg]
        await handler(tx, event, Envelope.wrap(event, key="k", producer="t", correlation_id="c"))
    assert calls[-1] == [6]
