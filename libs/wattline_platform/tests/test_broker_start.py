"""A broker start that fails after its consumer joined the group leaves no member behind.

The datahub service's consumer once got only partitions 1, 3 and 5 of a six-partition topic:
a start that failed after aiokafka had joined the group left that consumer in the group
(heartbeating, never fetching), the retry joined a second one, and the round-robin assignor
gave the ghost every other partition. Real broker (Tansu), real consumer group.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from wattline_platform.broker import CONSUMER_SETTINGS, make_broker, start_broker
from wattline_platform.config import PlatformSettings
from wattline_platform.testing import create_topics

PARTITIONS = 6


async def _members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_consumer_groups([group])
        return len(
            described.groups[0][5]
        )  # (error, group, state, protocol_type, protocol, members)
    finally:
        await admin.close()


async def test_a_failed_start_is_retried_by_one_member_that_gets_every_partition(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = f"test.start.{uuid.uuid4().hex[:8]}"
    await create_topics(kafka_bootstrap, topic, partitions=PARTITIONS)
    group = f"test-start-{uuid.uuid4().hex[:8]}"
    broker = make_broker(PlatformSettings(kafka_bootstrap=kafka_bootstrap), "test-start")
    seen: set[int] = set()

    async def on_batch(body: Any, msg: KafkaMessage) -> None:
        records = (
            msg.raw_message if isinstance(msg.raw_message, tuple | list) else (msg.raw_message,)
        )
        seen.update(r.partition for r in records)
        await msg.ack()

    broker.subscriber(
        topic, group_id=group, batch=True, ack_policy=AckPolicy.MANUAL, **CONSUMER_SETTINGS
    )(on_batch)

    # The first start fails after the consumer has joined its group (as a join error raised
    # from aiokafka's start() does, or anything after it).
    original = AIOKafkaConsumer.start
    failures = [RuntimeError("failed after joining")]

    async def start_then_fail(self: AIOKafkaConsumer) -> None:
        await original(self)
        if failures:
            raise failures.pop()

    monkeypatch.setattr(AIOKafkaConsumer, "start", start_then_fail)
    with pytest.raises(RuntimeError, match="failed after joining"):
        await start_broker(broker)
    await start_broker(broker)  # the service's retry
    try:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for partition in range(PARTITIONS):
                await producer.send_and_wait(topic, b"{}", partition=partition)
        finally:
            await producer.stop()
        for _ in range(150):
            if len(seen) == PARTITIONS:
                break
            await asyncio.sleep(0.1)
        assert sorted(seen) == list(range(PARTITIONS))
        assert await _members(kafka_bootstrap, group) == 1
    finally:
        await broker.stop()
