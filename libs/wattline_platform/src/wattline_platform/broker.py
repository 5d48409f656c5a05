"""FastStream Kafka broker factory with settings that work on Tansu and on Apache Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from wattline_platform.config import PlatformSettings
from wattline_platform.outbox import PublishError, Row
from wattline_platform.topics import read_epoch

# Consumer settings measured to work on Tansu (see shared/reference/platform.md).
CONSUMER_SETTINGS: dict[str, Any] = {
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    "fetch_max_wait_ms": 100,
}


async def start_broker(broker: KafkaBroker) -> None:
    """Start *broker*; one that fails to start is stopped again before the error is raised.

    Without the stop, a retry would leave a ghost in each consumer group: a consumer that
    joined its group and then failed (aiokafka raises a join error from ``start()`` while its
    heartbeat task keeps the membership alive; or anything failing after it) stays a member
    that never fetches, the retry's fresh consumer joins beside it, and the round-robin
    assignor gives the ghost every other partition (0, 2 and 4 of six), which nobody then
    consumes. Stopping closes the half-started consumers, which leave their groups.
    """
    try:
        await broker.start()
    except BaseException:
        with contextlib.suppress(Exception):
            await broker.stop()
        raise


def make_broker(settings: PlatformSettings, client_id: str) -> KafkaBroker:
    """A KafkaBroker; idempotence (and with it transactions) only when configured."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        request_timeout_ms=40000,
        # FastStream logs every message at INFO; our consumer logs what matters. Its own
        # records go through the root logger's JSON handler (warnings and up).
        logger=logging.getLogger("faststream.wattline"),
        log_level=logging.DEBUG,
        graceful_timeout=15.0,
        # Topics come from deploy/topics.yaml only; never a 1-partition topic made on the fly.
        allow_auto_create_topics=False,
    )


class KafkaPublisher:
    """Relay publisher: send a whole batch concurrently, then wait for every acknowledgement."""

    def __init__(self, broker: KafkaBroker, bootstrap: str) -> None:
        self.broker = broker
        self.bootstrap = bootstrap

    async def publish_batch(self, rows: Sequence[Row]) -> int:
        futures: list[asyncio.Future[Any]] = []
        error: BaseException | None = None
        for row in rows:
            try:
                futures.append(
                    await self.broker.publish(
                        row.envelope.encode(),
                        row.topic,
                        key=row.key.encode(),
                        headers=row.headers,
                        correlation_id=row.headers["correlation_id"],
                        no_confirm=True,
                    )
                )
            except Exception as exc:  # refused before sending (e.g. unknown topic)
                error = exc
                break
        # Let every send settle before judging, so a retry never overtakes one in flight.
        results = await asyncio.gather(*futures, return_exceptions=True)
        acknowledged = 0
        for result in results:
            if isinstance(result, BaseException):
                error = result
                break
            acknowledged += 1
        if error is not None:
            raise PublishError(acknowledged, error)
        return acknowledged

    async def current_epoch(self) -> str | None:
        return await read_epoch(self.bootstrap)
