"""FastStream Kafka broker factory with settings that work on Tansu and on Apache Kafka."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from wattline_platform.config import PlatformSettings
from wattline_platform.outbox import Publisher, Row
from wattline_platform.topics import read_epoch

# Consumer settings measured to work on Tansu (see shared/reference/platform.md).
CONSUMER_SETTINGS: dict[str, Any] = {
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    "fetch_max_wait_ms": 100,
}


def make_broker(settings: PlatformSettings, client_id: str) -> KafkaBroker:
    """A KafkaBroker; idempotence (and with it transactions) only when configured."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        request_timeout_ms=40000,
        # FastStream logs every message at INFO; our consumer logs what matters.
        log_level=logging.DEBUG,
        graceful_timeout=15.0,
    )


class KafkaPublisher(Publisher):
    """Relay publisher: send a whole batch concurrently, then wait for every acknowledgement."""

    def __init__(self, broker: KafkaBroker, bootstrap: str) -> None:
        self.broker = broker
        self.bootstrap = bootstrap

    async def publish_batch(self, rows: Sequence[Row]) -> None:
        futures = [
            await self.broker.publish(
                row.envelope.encode(),
                row.topic,
                key=row.key.encode(),
                headers=row.headers,
                correlation_id=row.headers["correlation_id"],
                no_confirm=True,
            )
            for row in rows
        ]
        await asyncio.gather(*futures)

    async def current_epoch(self) -> str | None:
        return await read_epoch(self.bootstrap)
