"""Danish business days: Monday to Friday except public holidays (the `holidays` package's
DK calendar, which has no Store Bededag from 2024), with Christmas Eve and New Year's Eve
closed unless a caller says otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DANISH_TZ = ZoneInfo("Europe/Copenhagen")

# The business dates Wattline supports: every price, calendar, contract and DataHub date falls
# in this range, and date arithmetic on one (the day after, a UTC offset) never overflows.
FIRST_SUPPORTED_DATE = date(2000, 1, 1)
LAST_SUPPORTED_DATE = date(2100, 12, 31)


def is_supported_date(day: date) -> bool:
    """True for a date from :data:`FIRST_SUPPORTED_DATE` to :data:`LAST_SUPPORTED_DATE`."""
    return FIRST_SUPPORTED_DATE <= day <= LAST_SUPPORTED_DATE


def danish_today(now: datetime) -> date:
    """The Danish (Europe/Copenhagen) calendar date at the aware instant *now*.

    Lives here rather than in :mod:`wattline_platform.clock` so that domain code can use it
    without importing an HTTP client.
    """
    if now.tzinfo is None:
        # astimezone() would read a naive value in the machine's zone: wrong on a UTC server.
        raise ValueError("danish_today needs an aware datetime")
    return now.astimezone(DANISH_TZ).date()


@lru_cache(maxsize=64)
def danish_holidays(year: int, closed_eves: bool = True) -> frozenset[date]:
    """Public holidays of *year*, plus 24 and 31 December when *closed_eves*."""
    days = set(holidays.country_holidays("DK", years=year))
    if closed_eves:
        days |= {date(year, 12, 24), date(year, 12, 31)}
    return frozenset(days)


def is_business_day(day: date, closed_eves: bool = True) -> bool:
    """True on a Danish business day."""
    return day.weekday() < 5 and day not in danish_holidays(day.year, closed_eves)


def business_days_back(day: date, count: int, closed_eves: bool = True) -> date:
    """The date *count* business days before *day*."""
    cursor = day
    while count > 0:
        cursor -= timedelta(days=1)
        if is_business_day(cursor, closed_eves):
            count -= 1
    return cursor


def business_days_ahead(day: date, count: int, closed_eves: bool = True) -> date:
    """The date *count* business days after *day*."""
    cursor = day
    while count > 0:
        cursor += timedelta(days=1)
        if is_business_day(cursor, closed_eves):
            count -= 1
    return cursor


@lru_cache(maxsize=16_384)
def local_midnight(day: date) -> datetime:
    """The UTC instant at which the Danish local date *day* begins (23:00Z in winter,
    22:00Z in summer the day before)."""
    return datetime.combine(day, time(), tzinfo=DANISH_TZ).astimezone(UTC)
