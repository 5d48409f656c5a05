"""Time helpers shared by models, parser, builder and the local-day view."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DANISH_TZ = ZoneInfo("Europe/Copenhagen")
FIXED_STEPS = {"PT15M": timedelta(minutes=15), "PT1H": timedelta(hours=1)}
RESOLUTIONS = ("PT15M", "PT1H", "P1D", "P1M")
MAX_POSITION = 999_999
# The years a CIM time may name. DataHub's data lies well inside; the bounds keep date
# arithmetic (a local day's next midnight, a P1D series' steps) away from datetime's ends
# (year 1, year 9999), where it overflows instead of answering.
YEARS = range(1900, 2200)


def fmt_seconds(dt: datetime) -> str:
    """`2025-01-16T05:12:07Z`: the CIM format of createdDateTime and other *_DateAndOrTime."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_minutes(dt: datetime) -> str:
    """`2025-01-14T23:00Z`: the CIM format of timeInterval start/end (no seconds)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which the Danish local day `day` starts."""
    return datetime(day.year, day.month, day.day, tzinfo=DANISH_TZ).astimezone(UTC)


def _add_month(local: datetime) -> datetime:
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def expected_points(start: datetime, end: datetime, resolution: str) -> int:
    """Number of points an interval holds at a resolution; ValueError if it does not divide.

    PT15M/PT1H are fixed durations. P1D/P1M step along the Danish local calendar, so a day
    may be 23-25 hours and a month is a calendar month.
    """
    span = f"{fmt_minutes(start)}..{fmt_minutes(end)}"
    if end <= start:
        raise ValueError(f"interval {span} is empty or reversed")
    step = FIXED_STEPS.get(resolution)
    if step is not None:
        count, rest = divmod(end - start, step)
        if rest:
            raise ValueError(f"interval {span} is not a whole number of {resolution}")
        return count
    if resolution not in ("P1D", "P1M"):
        raise ValueError(f"unsupported resolution {resolution!r}")
    cursor, count = start.astimezone(DANISH_TZ), 0
    while cursor.astimezone(UTC) < end and count <= MAX_POSITION:
        cursor = cursor + timedelta(days=1) if resolution == "P1D" else _add_month(cursor)
        count += 1
    if cursor.astimezone(UTC) != end:
        raise ValueError(f"interval {span} is not a whole number of {resolution}")
    return count
