"""The delivery job: sends the bills whose deliveries are due (``handlers.delivery``).

Every replica may run it: deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease,
so replicas share the work and never send one bill at the same time.
"""

from __future__ import annotations

import asyncio

from wattline_platform.logging import get_logger

from wattline_invoicing.handlers import Invoicing, delivery

log = get_logger(__name__)


async def delivery_job(inv: Invoicing, interval_s: float = 2.0) -> None:
    """Deliver what is due, batch after batch, then look again every *interval_s*; in wall
    clock time, not business time (``handlers.delivery``)."""
    while True:
        try:
            if await delivery.deliver_due(inv, await delivery.WALL_CLOCK.now()):
                continue  # more may be waiting
        except Exception as exc:
            log.error("delivery_job_failed", error=repr(exc))
        await asyncio.sleep(interval_s)
