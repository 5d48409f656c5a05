"""Energy reconciliation: DataHub's RSM-014 totals against the sum of our own metering data.

A *slice* is one grid area, metering-point type and settlement method in one hour. DataHub's
side is its aggregation's positions in that hour (quarters summed: the hour is compared, so
an hourly and a quarterly series compare alike). Our side is the sum, over the metering points
we supplied in that grid area that day with that type and settlement method, of their metered
values in that hour. Each hour slice is then exactly one of:

- ``matched``: both sides known and within the tolerance;
- ``deviation``: both known, the difference beyond the tolerance (in kWh *and* in percent of
  DataHub's total: a large area is not flagged for a rounding, a small one not for a ratio);
- ``missing_ours``: DataHub has a total but one of our supplied points has no value for the
  hour (our sum would be short, so it is not compared);
- ``missing_datahub``: we have values but DataHub sent no total for the hour.

A day's status is its worst hour's: deviation, then missing ours, then missing DataHub's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")
HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
WH_PER_KWH = Decimal(1000)

Status = Literal["matched", "deviation", "missing_ours", "missing_datahub"]
STATUSES: tuple[Status, ...] = ("deviation", "missing_ours", "missing_datahub", "matched")

# DataHub's aggregation processes, in the order a later one supersedes an earlier one:
# preliminary aggregation, balance fixing, wholesale fixing, correction settlement.
_PROCESS_RANK = {"D03": 1, "D04": 2, "D05": 3, "D32": 4}


def version_rank(process_type: str, settlement_version: str | None) -> int:
    """How final an RSM-014 series is: a slot is replaced by a series ranked at least as high.

    A correction settlement (D32) outranks wholesale fixing (D05), which outranks balance
    fixing (D04) and the preliminary aggregation (D03); among corrections the settlement
    version (D01, D02, ...) counts up. An unknown process ranks lowest.
    """
    rank = _PROCESS_RANK.get(process_type, 0) * 100
    if settlement_version and settlement_version[1:].isdigit():
        rank += int(settlement_version[1:])
    return rank


def day_hours(day: date) -> list[datetime]:
    """The UTC starts of the hours of Danish local *day* (23, 24 or 25)."""
    start = datetime.combine(day, time(0), tzinfo=COPENHAGEN).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=COPENHAGEN).astimezone(UTC)
    hours = []
    while start < end:
        hours.append(start)
        start += HOUR
    return hours


def local_dates(start: datetime, end: datetime) -> list[date]:
    """The Danish local dates the interval [start, end) touches."""
    first = start.astimezone(COPENHAGEN).date()
    last = (end - timedelta(microseconds=1)).astimezone(COPENHAGEN).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def slot_starts(start: datetime, resolution: str, count: int) -> list[datetime]:
    """The UTC starts of *count* positions of *resolution* from *start*."""
    step = QUARTER if resolution == "PT15M" else HOUR
    begin = start.astimezone(UTC)
    return [begin + step * n for n in range(count)]


@dataclass(frozen=True)
class Slot:
    """One position of DataHub's series."""

    resolution: str
    start: datetime
    kwh: Decimal | None


@dataclass(frozen=True)
class PointDay:
    """One metering point we supplied that day, with its metered Wh per position (None: no
    data for the day at all)."""

    gsrn: str
    resolution: str
    wh: Sequence[int | None] | None

    def hour_wh(self, position: int) -> int | None:
        """Wh in the local day's hour *position*, None unless every value of it is there."""
        if self.wh is None:
            return None
        per_hour = 4 if self.resolution == "PT15M" else 1
        values = list(self.wh[position * per_hour : (position + 1) * per_hour])
        if len(values) < per_hour or any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None)


@dataclass(frozen=True)
class Tolerance:
    kwh: Decimal
    percent: Decimal

    def exceeded(self, deviation: Decimal, datahub: Decimal) -> bool:
        if abs(deviation) <= self.kwh:
            return False
        if datahub == 0:
            return True
        return abs(deviation) * 100 > self.percent * abs(datahub)


@dataclass(frozen=True)
class HourResult:
    position: int
    hour_start: datetime
    status: Status
    datahub_kwh: Decimal | None
    ours_kwh: Decimal | None
    deviation_kwh: Decimal | None
    deviation_percent: Decimal | None
    points: int
    points_missing: int


@dataclass(frozen=True)
class SliceDay:
    """The result of one grid area, day, metering-point type and settlement method."""

    metering_point_type: str
    settlement_method: str
    hours: tuple[HourResult, ...]
    # Our supplied points without a value in an hour DataHub has a total for: their data is
    # what to ask DataHub for again (RSM-015).
    points_missing: tuple[str, ...] = ()

    def count(self, status: Status) -> int:
        return sum(h.status == status for h in self.hours)

    @property
    def status(self) -> Status:
        return next(s for s in STATUSES if self.count(s)) if self.hours else "matched"

    @property
    def datahub_kwh(self) -> Decimal | None:
        values = [h.datahub_kwh for h in self.hours if h.datahub_kwh is not None]
        return sum(values, Decimal("0.000")) if values else None

    @property
    def ours_kwh(self) -> Decimal | None:
        values = [h.ours_kwh for h in self.hours if h.ours_kwh is not None]
        return sum(values, Decimal("0.000")) if values else None

    @property
    def deviating(self) -> list[HourResult]:
        return [h for h in self.hours if h.status == "deviation"]

    @property
    def deviation_kwh(self) -> Decimal:
        return sum((h.deviation_kwh or Decimal(0) for h in self.deviating), Decimal("0.000"))

    def fingerprint(self) -> str | None:
        """What identifies this slice's deviations (None: none): raised again only when it
        changes."""
        if not self.deviating:
            return None
        text = ";".join(f"{h.position}:{h.datahub_kwh}:{h.ours_kwh}" for h in self.deviating)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _datahub_hour(slots: Iterable[Slot], hour: datetime) -> Decimal | None:
    """DataHub's total for *hour*: its hourly position, else its four quarters' sum; None
    unless complete."""
    by_resolution: dict[str, list[Decimal | None]] = {}
    for slot in slots:
        by_resolution.setdefault(slot.resolution, []).append(slot.kwh)
    for resolution, needed in (("PT1H", 1), ("PT15M", 4)):
        values = by_resolution.get(resolution, [])
        if len(values) == needed and all(v is not None for v in values):
            return sum((v for v in values if v is not None), Decimal("0.000"))
    return None


def deviation_percent(deviation: Decimal, datahub: Decimal) -> Decimal | None:
    """*deviation* as a percentage of DataHub's figure, half up to 2 decimals (None for 0)."""
    if datahub == 0:
        return None
    return (deviation * 100 / datahub).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def reconcile_slice(
    day: date,
    metering_point_type: str,
    settlement_method: str,
    slots: Sequence[Slot],
    points: Sequence[PointDay],
    tolerance: Tolerance,
) -> SliceDay:
    """Compare DataHub's *slots* with our supplied *points* hour by hour over local *day*."""
    by_hour: dict[datetime, list[Slot]] = {}
    for slot in slots:
        start = slot.start.astimezone(UTC)
        by_hour.setdefault(start.replace(minute=0, second=0, microsecond=0), []).append(slot)
    results = []
    lacking: set[str] = set()
    for position, hour in enumerate(day_hours(day)):
        hour_slots = by_hour.get(hour, [])
        datahub = _datahub_hour(hour_slots, hour)
        values = [p.hour_wh(position) for p in points]
        if datahub is not None:
            lacking.update(p.gsrn for p, v in zip(points, values, strict=True) if v is None)
        known = [v for v in values if v is not None]
        missing = len(values) - len(known)
        ours = (Decimal(sum(known)) / WH_PER_KWH).quantize(Decimal("0.001")) if known else None
        status: Status
        deviation = percent = None
        if datahub is None:
            if not known and not hour_slots:
                continue  # neither side has anything for this hour
            status = "missing_datahub" if known else "missing_ours"
        elif missing:
            status = "missing_ours"
        else:
            ours = ours if ours is not None else Decimal("0.000")
            deviation = ours - datahub
            percent = deviation_percent(deviation, datahub)
            status = "deviation" if tolerance.exceeded(deviation, datahub) else "matched"
        results.append(
            HourResult(
                position, hour, status, datahub, ours, deviation, percent, len(values), missing
            )
        )
    return SliceDay(metering_point_type, settlement_method, tuple(results), tuple(sorted(lacking)))


def reconcile_day(
    day: date,
    slots: Mapping[tuple[str, str], Sequence[Slot]],
    points: Mapping[tuple[str, str], Sequence[PointDay]],
    tolerance: Tolerance,
) -> list[SliceDay]:
    """Every slice of one grid area's local *day*: DataHub's series and our points grouped by
    (metering-point type, settlement method). A group only we have is compared with nothing
    (missing DataHub's) where we have values; one of points without any data is left out."""
    keys = set(slots) | {k for k, ps in points.items() if any(p.wh is not None for p in ps)}
    results = []
    for mp_type, method in sorted(keys):
        result = reconcile_slice(
            day,
            mp_type,
            method,
            slots.get((mp_type, method), ()),
            points.get((mp_type, method), ()),
            tolerance,
        )
        if result.hours:
            results.append(result)
    return results
