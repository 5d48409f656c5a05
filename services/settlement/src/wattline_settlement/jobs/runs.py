"""The settlement's background loops: the run worker, the correction worker and the run
schedule (each any replica; the work itself is claimed under row locks and leases)."""

from __future__ import annotations

import asyncio
from typing import Any

from wattline_platform.logging import get_logger

from wattline_settlement.handlers.corrections import queue_changed_data, recheck_some
from wattline_settlement.handlers.runs import retry_blocked, schedule_due, work_once
from wattline_settlement.settings import SettlementService

log = get_logger(__name__)


async def run_worker(
    service: SettlementService, interval_s: float = 1.0, concurrency: int = 2
) -> None:
    """Plan queued runs and settle their chunks (any replica; see ``handlers.runs.work_once``),
    *concurrency* chunks at a time: while one is settled in Python, another's reads and
    writes run in PostgreSQL."""

    async def one() -> None:
        while True:
            try:
                while await work_once(service):
                    pass
            except Exception as exc:
                log.error("run_worker_failed", error=repr(exc))
            await asyncio.sleep(interval_s)

    await asyncio.gather(*(one() for _ in range(concurrency)))


async def correction_worker(service: SettlementService, interval_s: float = 2.0) -> None:
    """Find settled periods with newer data or a changed supply period; publish deltas."""
    while True:
        try:
            await queue_changed_data(service)
            while await recheck_some(service) > 0:
                pass
        except Exception as exc:
            log.error("correction_worker_failed", error=repr(exc))
        await asyncio.sleep(interval_s)


async def schedule(
    service: SettlementService, after_days: int, deadline_days: int = 10, interval_s: float = 60.0
) -> None:
    """Start each billing period's scheduled run once (see :func:`schedule_due`), and retry
    blocked runs (:func:`retry_blocked`), every *interval_s*."""
    waiting: dict[str, tuple[Any, ...]] = {}
    while True:
        try:
            await schedule_due(service, after_days, deadline_days, waiting)
            await retry_blocked(service)
        except Exception as exc:
            log.error("settlement_schedule_failed", error=repr(exc))
        await asyncio.sleep(interval_s)
