"""One poller per DataHub queue category: peek, keep (received), dequeue, again.

One replica polls a category at a time (a Postgres lease), which keeps DataHub's order;
categories are polled concurrently, at most ``concurrency`` at once. The parse workers
(:mod:`wattline_datahub.jobs.parsers`, in every replica) turn what is kept into events. Why a
message is neither lost nor taken twice: :mod:`wattline_datahub.handlers.polling`.
"""

from __future__ import annotations

import asyncio

from wattline_datahub.handlers import Datahub, polling
from wattline_datahub.jobs import while_leased


async def run_poller(dh: Datahub, category: str, slots: asyncio.Semaphore) -> None:
    """Poll *category* for as long as the service runs, while holding its lease."""

    async def take() -> bool:
        async with slots:
            return await polling.take_one(dh, category) is not None

    await while_leased(
        dh,
        f"datahub-poll:{category}",
        take,
        failed="datahub_poller_error",  # the message stays queued; try again
        taken="datahub_polling",
        category=category,
    )
