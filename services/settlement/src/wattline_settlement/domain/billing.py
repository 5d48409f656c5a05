"""Billing periods (local months) and what a settlement run settles in one: a supply period of
ours clipped to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from wattline_settlement.domain.model import Period

MAX_CATCH_UP_MONTHS = 12


def billing_period(value: str) -> Period:
    """``YYYY-MM`` as local dates [first day, first day of the next month)."""
    year, month = int(value[:4]), int(value[5:7])
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    return Period(start, end)


def billing_periods_of(period: Period) -> list[str]:
    """The billing periods (months) a period touches."""
    out, cursor = [], period.start.replace(day=1)
    while cursor < period.end:
        out.append(f"{cursor.year:04d}-{cursor.month:02d}")
        cursor = billing_period(out[-1]).end
    return out


def months_to_schedule(newest: str | None, today: date) -> list[str]:
    """The months the schedule still has to start, oldest first: the previous month, and
    after a jump of the clock every month since the newest one it started (at most
    :data:`MAX_CATCH_UP_MONTHS`)."""
    month_start = today.replace(day=1)
    months: list[str] = []
    cursor = month_start - timedelta(days=1)
    while len(months) < MAX_CATCH_UP_MONTHS:
        billing = f"{cursor.year:04d}-{cursor.month:02d}"
        if months and (newest is None or billing <= newest):
            break
        months.append(billing)
        cursor = cursor.replace(day=1) - timedelta(days=1)
    return months[::-1]


@dataclass(frozen=True)
class Item:
    """A supply period of ours clipped to a billing period."""

    gsrn: str
    customer_id: str
    supply_period_id: str
    period: Period
