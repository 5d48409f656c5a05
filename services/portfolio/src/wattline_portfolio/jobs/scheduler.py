"""The scheduler: once, the default catalogue (and the holiday calendar built ahead); then,
forever, raise due requests and complete due endings (``handlers.scheduler``)."""

from __future__ import annotations

import asyncio

from wattline_platform.business_days import danish_holidays
from wattline_platform.logging import get_logger

from wattline_portfolio.handlers import Portfolio, products, scheduler

log = get_logger(__name__)


async def scheduler_job(p: Portfolio) -> None:
    """Create the default catalogue once, then raise due requests and complete due endings."""
    while True:
        try:
            await products.ensure_default_products(p)
            # The holiday calendar takes ~0.3 s to build per year, on the event loop: build
            # the years signups will touch now, not in the first customer's request.
            today = await p.today()
            for year in range(today.year - 1, today.year + 3):
                danish_holidays(year, p.settings.closed_eves)
            break
        except Exception as exc:
            log.warning("default_products_failed", error=repr(exc))
            await asyncio.sleep(2)
    while True:
        for name, job in (("raise", scheduler.raise_due), ("complete", scheduler.complete_due)):
            try:
                while await job(p) > 0:
                    pass
            except Exception as exc:
                log.error("scheduler_failed", job=name, error=repr(exc))
        await asyncio.sleep(p.settings.scheduler_interval_s)
