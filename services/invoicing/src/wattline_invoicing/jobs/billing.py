"""The billing job: closes cycles, issues correcting documents and first prepayments.

Every replica may run it: each document is issued in its own transaction under the billing
account's row lock (``handlers.issuing``), so two replicas never bill the same settlement; an
advisory lock only spares the second replica the wasted queries.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from wattline_platform import leases
from wattline_platform.business_days import danish_today
from wattline_platform.logging import get_logger

from wattline_invoicing import metrics
from wattline_invoicing.domain.cycles import Cycle, Frequency, cycle_of
from wattline_invoicing.handlers import Invoicing, bills, dunning, issuing

log = get_logger(__name__)

_LEASE = "invoicing-billing-job"  # its lock_key must never change (see leases)
MAX_CATCH_UP = 8  # cycles per frequency after a jump of the clock


def closable_cycles(
    today: date, frequency: Frequency, after_days: int, oldest: str | None
) -> list[Cycle]:
    """The cycles of *frequency* to close on *today*, oldest first: those that ended at least
    *after_days* ago, from the one holding the oldest unbilled period *oldest* (``YYYY-MM``)
    on, at most the newest :data:`MAX_CATCH_UP` (a cycle's invoice also bills what is left
    of earlier ones, so nothing old is skipped)."""
    if oldest is None:
        return []
    first = cycle_of(oldest, frequency)
    newest = cycle_of(f"{today.year:04d}-{today.month:02d}", frequency)
    cycles: list[Cycle] = []
    cycle = first
    while cycle <= newest:
        if cycle.end + timedelta(days=after_days) <= today:
            cycles.append(cycle)
        cycle = cycle.next()
    return cycles[-MAX_CATCH_UP:]


async def run_once(inv: Invoicing) -> int:
    """One pass; returns how many documents it issued (dunning's steps are logged)."""
    today = danish_today(await inv.service.clock.now())
    issued = 0
    async with leases.held(inv.service.database.pool, _LEASE) as lease:
        if lease is None:
            return 0
        frequencies: tuple[Frequency, ...] = ("monthly", "quarterly")
        for frequency in frequencies:
            oldest = await issuing.oldest_unbilled(inv, frequency)
            after = inv.settings.close_after_days
            for cycle in closable_cycles(today, frequency, after, oldest):
                issued += metrics.issued(await issuing.close_cycle(inv, cycle, today))
        issued += metrics.issued(await issuing.issue_final_settlements(inv, today))
        issued += metrics.issued(await issuing.issue_corrections(inv, today))
        issued += metrics.issued(await issuing.issue_first_prepayments(inv, today))
        steps = await dunning.run_dunning(inv, today)
        if steps:
            log.info("dunning_steps_taken", steps=steps)
    return issued


async def render_job(inv: Invoicing, interval_s: float = 2.0) -> None:
    """Render the PDFs of new documents ahead of their first request (and of delivery)."""
    while True:
        try:
            if await bills.render_pending(inv):
                continue  # more may be waiting
        except Exception as exc:
            log.error("render_job_failed", error=repr(exc))
        await asyncio.sleep(interval_s)


async def billing_job(inv: Invoicing) -> None:
    """Run :func:`run_once` every ``job_interval_s`` until cancelled."""
    while True:
        try:
            count = await run_once(inv)
            if count:
                log.info("billing_job_issued", documents=count)
        except Exception as exc:
            log.error("billing_job_failed", error=repr(exc))
        await asyncio.sleep(inv.settings.job_interval_s)
