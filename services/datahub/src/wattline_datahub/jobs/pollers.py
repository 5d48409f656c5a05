"""One poller per DataHub queue category: peek, store, dequeue, again.

One replica polls a category at a time (a Postgres lease), which keeps DataHub's order;
categories are polled concurrently, at most ``concurrency`` at once. Why a message is
neither lost nor taken twice: :mod:`wattline_datahub.handlers.polling`.
"""

from __future__ import annotations

import asyncio

from wattline_platform.logging import get_logger

from wattline_datahub.handlers import Datahub, leases, polling

log = get_logger(__name__)


async def run_poller(dh: Datahub, category: str, slots: asyncio.Semaphore) -> None:
    """Poll *category* for as long as the service runs, while holding its lease."""
    while True:
        try:
            async with leases.held(dh.service, f"datahub-poll:{category}") as ours:
                if not ours:
                    await asyncio.sleep(5.0)  # another replica polls this category
                    continue
                log.info("datahub_polling", category=category)
                while True:
                    async with slots:
                        stored = await polling.take_one(dh, category)
                    if stored is None:
                        await asyncio.sleep(dh.settings.idle_poll_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # database trouble: the message stays queued; try again
            log.warning("datahub_poller_error", category=category, error=repr(exc))
            await asyncio.sleep(1.0)
