"""The served log's retention: every peek the simulator answers (an empty one included, and
datahub peeks all the time) is one row, so entries older than the retention are deleted in
batches by one replica at a time (``wattline_platform.retention``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import asyncpg
from wattline_platform.retention import Pruner

from wattline_simulator.adapters import store
from wattline_simulator.settings import SimulatorService

BATCH_SIZE = 10_000


def served_pruner(pool: asyncpg.Pool, retention: timedelta, interval_s: float) -> Pruner:
    """The leased job deleting served-log entries older than *retention*."""

    async def delete_batch(conn: asyncpg.Connection, limit: int) -> int:
        return await store.delete_served_before(conn, retention, limit)

    return Pruner(pool, "simulator-served-retention", delete_batch, BATCH_SIZE, interval_s)


def job(service: SimulatorService) -> Callable[[], Coroutine[Any, Any, None]]:
    """The background job of *service* (its pool is open once background jobs start)."""
    settings = service.settings

    async def run() -> None:
        retention = timedelta(hours=settings.served_log_retention_hours)
        await served_pruner(
            service.database.pool, retention, settings.served_log_prune_interval_s
        ).run()

    return run
