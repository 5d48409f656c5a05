"""Outbox relay and inbox consumer against real PostgreSQL and a real Kafka-protocol broker.

These are the reliability tests (a), (b), (e) and the replay test of the foundation issue:
each fails if the outbox or inbox logic is taken out.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from wattline_contracts import Envelope, Event
from wattline_platform import outbox
from wattline_platform.broker import KafkaPublisher, make_broker
from wattline_platform.config import PlatformSettings
from wattline_platform.consumer import EventConsumer
from wattline_platform.db import Database
from wattline_platform.logging import correlation_id_var
from wattline_platform.testing import SchemaFactory, create_topics, event_class

EFFECTS_SQL = "CREATE TABLE effects (n int NOT NULL, event_id uuid NOT NULL);"


class SimulatedCrash(Exception):
    pass


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.1)


class Harness:
    """A producing schema with a relay, and consumers applying ``effects`` rows."""

    def __init__(
        self, bootstrap: str, producer_db: Database, consumer_db: Database, evt: type[Event]
    ) -> None:
        self.bootstrap = bootstrap
        self.producer_db = producer_db
        self.consumer_db = consumer_db
        self.evt = evt
        self.group = f"g-{uuid.uuid4().hex[:8]}"
        self.records_seen = 0
        self._brokers: list[Any] = []
        self.settings = PlatformSettings(kafka_bootstrap=bootstrap)

    async def append(self, values: Sequence[int], key: str = "k") -> list[Envelope]:
        envelopes = []
        async with self.producer_db.transaction() as tx:
            for n in values:
                envelopes.append(
                    await outbox.append(
                        tx, self.evt(n=n), key=key, producer="test", schema=self.producer_db.schema
                    )  # type: ignore[call-arg]
                )
        return envelopes

    async def relay(self) -> outbox.OutboxRelay:
        broker = make_broker(self.settings, "test-relay")
        await broker.start()
        self._brokers.append(broker)
        relay = outbox.OutboxRelay(
            self.producer_db.pool, self.producer_db.schema, KafkaPublisher(broker, self.bootstrap)
        )
        await relay.sync_epoch()
        return relay

    async def consumer(self, **kwargs: Any) -> EventConsumer:
        broker = make_broker(self.settings, "test-consumer")
        consumer = EventConsumer(
            self.group, self.consumer_db, broker, retry_backoff_s=0.01, **kwargs
        )

        @consumer.on(self.evt)
        async def apply(tx: asyncpg.Connection, event: Any, envelope: Envelope) -> None:
            if event.n < 0:
                raise ValueError(f"cannot apply negative n={event.n}")
            await tx.execute(
                "INSERT INTO effects (n, event_id) VALUES ($1, $2)", event.n, envelope.event_id
            )

        original = consumer.process

        async def counting(records: Sequence[Any]) -> None:
            await original(records)
            self.records_seen += len(records)

        consumer.process = counting  # type: ignore[method-assign]
        consumer.attach()
        await broker.start()
        self._brokers.append(broker)
        return consumer

    async def stop(self, consumer_or_broker: Any) -> None:
        broker = getattr(consumer_or_broker, "broker", consumer_or_broker)
        await broker.stop()
        if broker in self._brokers:
            self._brokers.remove(broker)

    async def effects(self) -> list[int]:
        rows = await self.consumer_db.fetch("SELECT n FROM effects ORDER BY n")
        return [r["n"] for r in rows]

    async def close(self) -> None:
        for broker in self._brokers:
            await broker.stop()


@pytest.fixture
async def harness(make_schema_db: SchemaFactory, kafka_bootstrap: str) -> AsyncIterator[Harness]:
    evt = event_class()
    await create_topics(kafka_bootstrap, evt.TYPE)
    h = Harness(
        kafka_bootstrap, await make_schema_db(), await make_schema_db(extra_sql=EFFECTS_SQL), evt
    )
    try:
        yield h
    finally:
        await h.close()


async def test_relay_publishes_in_commit_order_per_key(harness: Harness) -> None:
    await harness.append(range(50), key="571313100000000003")
    relay = await harness.relay()
    assert await relay.publish_once() == 50
    assert await relay.publish_once() == 0
    consumer = AIOKafkaConsumer(
        harness.evt.TYPE,
        bootstrap_servers=harness.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    try:
        seen: list[int] = []
        headers: dict[str, bytes] = {}
        while len(seen) < 50:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for r in records:
                    seen.append(json.loads(r.value)["payload"]["n"])
                    headers = dict(r.headers)
                    assert r.key == b"571313100000000003"
        assert seen == list(range(50))  # one key: one partition, in order
        assert headers["event_type"] == harness.evt.TYPE.encode()
        assert headers["correlation_id"]
    finally:
        await consumer.stop()


async def test_a_relay_crash_after_publishing_before_marking_applies_each_effect_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.append(range(20))
    crashing = await harness.relay()

    async def crash(rows: Any) -> None:
        raise SimulatedCrash("relay died after publish, before mark")

    monkeypatch.setattr(crashing, "mark_published", crash)
    with pytest.raises(SimulatedCrash):
        await crashing.publish_once()
    await harness.consumer()
    await wait_until(lambda: _true_when(harness.records_seen >= 20))
    assert await harness.effects() == list(range(20))
    # The restarted relay finds the rows unmarked and publishes them again.
    restarted = await harness.relay()
    assert await restarted.publish_once() == 20
    await wait_until(lambda: _true_when(harness.records_seen >= 40))
    assert await harness.effects() == list(range(20))
    assert await restarted.publish_once() == 0


async def test_b_a_consumer_crash_after_its_effect_before_ack_applies_each_effect_once(
    harness: Harness,
) -> None:
    await harness.append(range(30))
    await (await harness.relay()).publish_once()

    crashed = asyncio.Event()
    first = await harness.consumer()

    async def die_before_ack(msg: Any) -> None:
        crashed.set()
        raise SimulatedCrash("consumer died after commit, before ack")

    first.acknowledge = die_before_ack  # type: ignore[method-assign]
    await wait_until(lambda: _true_when(harness.records_seen >= 30))
    await crashed.wait()
    assert await harness.effects() == list(range(30))
    await harness.stop(first)  # the process is gone; nothing was committed

    harness.records_seen = 0
    await harness.consumer()  # same group: the messages are delivered again
    await wait_until(lambda: _true_when(harness.records_seen >= 30))
    assert await harness.effects() == list(range(30))
    dupes = await harness.consumer_db.fetchrow("SELECT count(*) AS n FROM inbox")
    assert dupes is not None and dupes["n"] == 30


async def test_e_a_poison_message_goes_to_the_dlq_and_the_partition_moves_on(
    harness: Harness,
) -> None:
    await harness.append([1], key="same")
    # A message no contract accepts: it can never be applied.
    producer = AIOKafkaProducer(bootstrap_servers=harness.bootstrap)
    await producer.start()
    bad = Envelope.wrap(harness.evt(n=0), key="same", producer="test", correlation_id="c")  # type: ignore[call-arg]
    body = bad.model_dump(mode="json")
    body["payload"] = {"n": "not a number"}
    await producer.send_and_wait(harness.evt.TYPE, json.dumps(body).encode(), key=b"same")
    # Not JSON at all, and a header that is not UTF-8: still poison, not a lost batch.
    await producer.send_and_wait(
        harness.evt.TYPE, b"{not json", key=b"same", headers=[("content-type", b"application/json")]
    )
    await producer.send_and_wait(
        harness.evt.TYPE, json.dumps(body).encode(), key=b"same", headers=[("x-odd", b"\xff\xfe")]
    )
    await producer.stop()
    # One the handler rejects every time, then a good one behind it on the same partition.
    await harness.append([-5], key="same")
    await harness.append([2, 3], key="same")
    relay = await harness.relay()
    while await relay.publish_once():
        pass
    await harness.consumer(max_retries=3)
    await wait_until(lambda: _true_when(harness.records_seen >= 7))
    assert await harness.effects() == [1, 2, 3]

    dlq = AIOKafkaConsumer(
        harness.evt.TYPE + ".dlq",
        bootstrap_servers=harness.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
    )
    await dlq.start()
    try:
        dead: list[dict[str, str]] = []
        deadline = asyncio.get_running_loop().time() + 20
        while len(dead) < 4 and asyncio.get_running_loop().time() < deadline:
            for records in (await dlq.getmany(timeout_ms=500)).values():
                dead += [{k: v.decode() for k, v in r.headers} for r in records]
    finally:
        await dlq.stop()
    assert len(dead) == 4
    assert "invalid" in dead[0]["x-dlq-reason"] and "n" in dead[0]["x-dlq-reason"]
    assert dead[0]["x-dlq-attempts"] == "1"
    assert "invalid envelope" in dead[1]["x-dlq-reason"]
    assert "invalid" in dead[2]["x-dlq-reason"]
    assert "cannot apply negative n=-5" in dead[3]["x-dlq-reason"]
    assert dead[3]["x-dlq-attempts"] == "3"
    assert dead[3]["x-dlq-original-topic"] == harness.evt.TYPE


async def test_a_batch_that_could_not_be_dead_lettered_comes_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.append([-1, 4, 5], key="same")
    await (await harness.relay()).publish_once()
    consumer = await _consumer_with_flaky_dlq(harness, failures=1)
    # The first pass fails when the DLQ publish fails; the rewound batch then completes.
    await wait_until(lambda: _true_when(consumer.dead_lettered == 1 and harness.records_seen >= 3))
    assert await harness.effects() == [4, 5]


async def _consumer_with_flaky_dlq(harness: Harness, failures: int) -> Any:
    consumer: Any = await harness.consumer(max_retries=1)
    consumer.dead_lettered = 0
    original = consumer.dead_letter

    async def flaky(record: Any, reason: str, *, attempts: int) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("DLQ publish failed")
        await original(record, reason, attempts=attempts)
        consumer.dead_lettered += 1

    consumer.dead_letter = flaky
    return consumer


async def test_replay_republishes_a_range_and_consumers_ignore_what_they_applied(
    harness: Harness,
) -> None:
    early = await harness.append(range(10))
    await asyncio.sleep(0.05)
    cut = datetime.now(UTC)
    await harness.append(range(10, 15))
    relay = await harness.relay()
    while await relay.publish_once():
        pass
    await harness.consumer()
    await wait_until(lambda: _true_when(harness.records_seen >= 15))

    async with harness.producer_db.transaction() as tx:
        by_time = await outbox.schedule_replay(tx, harness.producer_db.schema, since=cut)
    assert by_time == 5
    assert await relay.publish_once() == 5
    async with harness.producer_db.transaction() as tx:
        by_event = await outbox.schedule_replay(
            tx, harness.producer_db.schema, from_event=early[7].event_id
        )
    assert by_event == 8  # events 7..14
    assert await relay.publish_once() == 8
    await wait_until(lambda: _true_when(harness.records_seen >= 28))
    assert await harness.effects() == list(range(15))

    async with harness.producer_db.transaction() as tx:
        with pytest.raises(LookupError):
            await outbox.schedule_replay(tx, harness.producer_db.schema, from_event=uuid.uuid4())
        assert (
            await outbox.schedule_replay(
                tx, harness.producer_db.schema, since=cut - timedelta(days=1), until=cut
            )
            == 10
        )


async def test_a_new_broker_epoch_makes_the_relay_republish_everything(harness: Harness) -> None:
    await harness.append(range(3))
    relay = await harness.relay()
    assert await relay.publish_once() == 3
    assert not await relay.sync_epoch()  # same broker: nothing to do
    # The relay last published to a broker that has since lost its memory.
    await harness.producer_db.fetch("UPDATE relay_state SET broker_epoch = 'a-forgotten-broker'")
    assert await relay.sync_epoch()
    assert await relay.publish_once() == 3


async def test_uncommitted_outbox_rows_are_not_published_before_earlier_commits(
    harness: Harness,
) -> None:
    """Rows behind a writer that has appended but not committed are not published: the
    relay neither skips the writer's row nor waits long (which would stall every writer)."""
    relay = await harness.relay()
    await harness.append([0])
    async with harness.producer_db.transaction() as slow:
        await outbox.append(
            slow, harness.evt(n=1), key="k", producer="t", schema=harness.producer_db.schema
        )  # type: ignore[call-arg]
        # A later writer commits while the slow one is still open.
        later = asyncio.create_task(harness.append([2]))
        started = asyncio.get_running_loop().time()
        assert await relay.fetch_batch() == []
        assert asyncio.get_running_loop().time() - started < 0.5
    await later
    rows = await relay.fetch_batch()
    assert [json.loads(r.envelope)["payload"]["n"] for r in rows] == [0, 1, 2]


async def test_an_oversized_event_is_refused_in_the_writers_transaction(harness: Harness) -> None:
    big = event_class(blob=(str, ...))
    async with harness.producer_db.transaction() as tx:
        with pytest.raises(ValueError, match="must stay under"):
            await outbox.append(
                tx,
                big(blob="x" * 1_000_000),
                key="k",
                producer="t",  # type: ignore[call-arg]
                schema=harness.producer_db.schema,
            )


async def _true_when(value: bool) -> bool:
    return value


async def test_payloads_appended_as_json_are_enveloped_like_events_and_applied_once(
    harness: Harness,
) -> None:
    """``append_payloads`` writes what ``append`` would (the envelope pydantic makes, with a
    new event id each and the current correlation id), from payload JSON built elsewhere;
    the relay publishes them and a consumer applies each once."""
    token = correlation_id_var.set("run-42")
    try:
        async with harness.producer_db.transaction() as tx:
            await outbox.append_payloads(
                tx,
                harness.evt,
                [("571313100000000003", f'{{"n":{n}}}') for n in (7, 8, 9)],
                producer="test",
                schema=harness.producer_db.schema,
            )
            await outbox.append(
                tx, harness.evt(n=10), key="k", producer="test", schema=harness.producer_db.schema
            )  # type: ignore[call-arg]
    finally:
        correlation_id_var.reset(token)
    rows = await harness.producer_db.fetch(
        "SELECT event_id, key, event_type, envelope FROM outbox ORDER BY id"
    )
    envelopes = [Envelope.model_validate_json(r["envelope"]) for r in rows]
    assert [e.payload["n"] for e in envelopes] == [7, 8, 9, 10]
    assert [harness.evt.model_validate(e.payload).n for e in envelopes[:3]] == [7, 8, 9]  # type: ignore[attr-defined]
    assert len({e.event_id for e in envelopes}) == 4
    assert [e.event_id for e in envelopes] == [r["event_id"] for r in rows]
    assert [r["key"] for r in rows[:3]] == ["571313100000000003"] * 3
    assert {(e.type, e.version, e.producer) for e in envelopes} == {(harness.evt.TYPE, 1, "test")}
    assert [e.correlation_id for e in envelopes[:3]] == ["run-42"] * 3
    # The same fields as the model's own dump (pydantic's JSON, byte for byte).
    assert rows[0]["envelope"] == envelopes[0].model_dump_json()

    consumer = await harness.consumer()
    relay = await harness.relay()
    assert await relay.publish_once() == 4
    await wait_until(lambda: _effects_are(harness, [7, 8, 9, 10]))
    await harness.stop(consumer)


async def _effects_are(harness: Harness, expected: list[int]) -> bool:
    return await harness.effects() == expected
