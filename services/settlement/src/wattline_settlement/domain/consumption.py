"""A metering point's consumption over local dates, as the metering-data API and the portal
show it: points at PT15M, PT1H, P1D or P1M from the latest stored days.

Missing values stay missing, never counted as zero, and are said: a point sums the values it
has (``kwh`` null only when it has none), is marked incomplete (A05) and counts the intervals
it lacks, and the document lists every stretch without values (UTC ``[start, end)``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, TypedDict

from wattline_platform.business_days import local_midnight

from wattline_settlement.domain.engine import STEPS
from wattline_settlement.domain.metering import QUALITY_CODES, DayData, positions

RESOLUTIONS = ("PT15M", "PT1H", "P1D", "P1M")
MISSING = "A02"
# How bad a quality is, by stored code: A02 missing > A05 incomplete > A03 estimated >
# A06 calculated > A04 measured. A value given without a quality counts as measured.
_RANK = {None: 0, 4: 0, 6: 1, 3: 2, 5: 3, 2: 4}
_WORST = {0: "A04", 1: "A06", 2: "A03", 3: "A05", 4: "A02"}
_INCOMPLETE = 3  # A05: a point some of whose values are missing
_CODE: dict[str | None, int | None] = {None: None}
_CODE.update(QUALITY_CODES)


class NoMeteringData(Exception):
    """Nothing was ever stored for this metering point."""


class ResolutionUnavailable(Exception):
    """PT15M asked of a period with hourly data."""


def interval_resolution(stored: set[str]) -> str:
    """What values are counted in: PT15M when every stored day is, else PT1H."""
    return "PT15M" if stored == {"PT15M"} else "PT1H"


def resolution_for(asked: str | None, stored: set[str]) -> str:
    """The resolution to answer in: the asked one (PT15M only from quarter-hour data), by
    default the finest the stored days allow. Raises :class:`ResolutionUnavailable`."""
    finest = interval_resolution(stored)
    if asked is None:
        return finest
    if asked == "PT15M" and stored != {"PT15M"}:
        raise ResolutionUnavailable("PT15M needs quarter-hour data; this period has hourly data")
    return asked


class ConsumptionPoint(TypedDict):
    """One point at the asked resolution, starting at ``start`` (UTC)."""

    start: str
    kwh: str | None  # the sum of the values present; null only when none is
    quality: str  # worst of the values present; A05 when some are missing, A02 when all are
    missing_intervals: int  # intervals (of ``interval_resolution``) without a value


class MissingRange(TypedDict):
    """A stretch of time without values: ``[start, end)`` in UTC."""

    start: str
    end: str


Consumption = TypedDict(
    "Consumption",
    {
        "gsrn": str,
        "resolution": str,
        "from": str,
        "to": str,
        # what values are counted in: PT15M when every stored day is, else PT1H
        "interval_resolution": str,
        "total_kwh": str | None,  # everything present; null only when nothing is
        "complete": bool,  # no interval is missing
        "missing_points": int,  # points with a missing interval (quality A02 or A05)
        "missing_intervals": int,
        "missing": list[MissingRange],
        "points": list[ConsumptionPoint],
    },
)


def _kwh(wh: int) -> str:
    whole, part = divmod(abs(wh), 1000)
    return f"{'-' if wh < 0 else ''}{whole}.{part:03d}"


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=8192)
def _starts(day: date, resolution: str) -> tuple[datetime, ...]:
    """UTC start of each interval of a local day."""
    first, step = local_midnight(day), STEPS[resolution]
    return tuple(first + k * step for k in range(positions(day, resolution)))


@lru_cache(maxsize=8192)
def _stamps(day: date, resolution: str) -> tuple[str, ...]:
    return tuple(_utc(s) for s in _starts(day, resolution))


class _Day(NamedTuple):
    """A local day at the interval resolution: per interval the Wh present (None: no value),
    whether a value is missing, and the worst quality rank of the values present."""

    wh: tuple[int | None, ...]
    missing: tuple[bool, ...]
    ranks: tuple[int, ...]


def _intervals(day: DayData | None, local_date: date, resolution: str) -> _Day:
    """A day's values at *resolution* (PT15M summed to hours if needed: an hour with a missing
    quarter is missing, and the quarters it has still count)."""
    if day is None:
        n = positions(local_date, resolution)
        return _Day((None,) * n, (True,) * n, (0,) * n)
    ranks = tuple(
        0 if wh is None else _RANK[_CODE[q]] for wh, q in zip(day.wh, day.qualities, strict=True)
    )
    if day.resolution == resolution:
        return _Day(day.wh, tuple(wh is None for wh in day.wh), ranks)
    # PT15M stored, PT1H wanted: hour h is quarters 4h..4h+3.
    values: list[int | None] = []
    missing: list[bool] = []
    worst: list[int] = []
    for h in range(0, len(day.wh), 4):
        present = [wh for wh in day.wh[h : h + 4] if wh is not None]
        values.append(sum(present) if present else None)
        missing.append(len(present) < 4)
        worst.append(max(ranks[h : h + 4]))
    return _Day(tuple(values), tuple(missing), tuple(worst))


def _point(start: str, wh: int | None, missing: int, worst: int) -> ConsumptionPoint:
    if wh is None:
        return {"start": start, "kwh": None, "quality": MISSING, "missing_intervals": missing}
    quality = _WORST[max(worst, _INCOMPLETE) if missing else worst]
    return {"start": start, "kwh": _kwh(wh), "quality": quality, "missing_intervals": missing}


def consumption_document(
    gsrn: str,
    start: date,
    end: date,
    resolution: str,
    days: dict[date, DayData],
    interval_resolution: str,
) -> Consumption:
    """The response body: points at *resolution* over the local dates ``[start, end)``.

    Values are counted at *interval_resolution* (PT15M or PT1H; *resolution* itself when it
    is one of them). A point sums the values it has: ``kwh`` is null only when it has none
    (quality A02); a point with some values missing has quality A05 (incomplete) and says how
    many intervals it lacks. The total sums everything present, and ``missing`` lists the
    stretches without values in UTC, so a partial month is never mistaken for a whole one
    (nor is a missing value ever counted as zero).
    """
    if resolution in ("PT15M", "PT1H"):
        interval_resolution = resolution
    step = STEPS[interval_resolution]
    points: list[ConsumptionPoint] = []
    ranges: list[MissingRange] = []
    open_range: list[datetime] = []  # [start, end] of the stretch being extended
    total: int | None = None
    missing_total = 0
    bucket_key: date | tuple[int, int] | None = None
    bucket: list[Any] = []  # start, wh, missing, worst of the P1D/P1M point being summed

    def close_range() -> None:
        if open_range:
            ranges.append({"start": _utc(open_range[0]), "end": _utc(open_range[1])})
            open_range.clear()

    def flush() -> None:
        if bucket:
            points.append(_point(*bucket))
            bucket.clear()

    for k in range((end - start).days):
        d = start + timedelta(days=k)
        day = _intervals(days.get(d), d, interval_resolution)
        starts = _starts(d, interval_resolution)
        if any(day.missing):
            for moment, missing in zip(starts, day.missing, strict=True):
                if not missing:
                    close_range()
                elif open_range and open_range[1] == moment:
                    open_range[1] = moment + step
                else:
                    close_range()
                    open_range.extend((moment, moment + step))
            missing_total += sum(day.missing)
        else:
            close_range()
        present = [wh for wh in day.wh if wh is not None]
        if present:
            total = (total or 0) + sum(present)
        if resolution == interval_resolution:
            for stamp, wh, missing, rank in zip(
                _stamps(d, resolution), day.wh, day.missing, day.ranks, strict=True
            ):
                points.append(_point(stamp, wh, int(missing), rank))
            continue
        # P1D: one point per local day; P1M: per local month (from the first day asked for).
        key = d if resolution == "P1D" else (d.year, d.month)
        if key != bucket_key:
            flush()
            bucket_key = key
            bucket.extend((_stamps(d, "PT1H")[0], None, 0, 0))
        if present:
            bucket[1] = (bucket[1] or 0) + sum(present)
            bucket[3] = max(bucket[3], max(day.ranks))
        bucket[2] += sum(day.missing)
    flush()
    close_range()
    return {
        "gsrn": gsrn,
        "resolution": resolution,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "interval_resolution": interval_resolution,
        "total_kwh": None if total is None else _kwh(total),
        "complete": missing_total == 0,
        "missing_points": sum(1 for p in points if p["missing_intervals"]),
        "missing_intervals": missing_total,
        "missing": ranges,
        "points": points,
    }


# -- the customer portal's periods ---------------------------------------------------------------
PORTAL_CODES = {"hour": "PT1H", "day": "P1D", "month": "P1M"}


def portal_period(resolution: str, day: date) -> tuple[date, date]:
    """The local dates ``[start, end)`` a portal view of *day* shows: its day (``hour``), its
    month (``day``) or its year (``month``)."""
    if resolution == "hour":
        return day, date.fromordinal(day.toordinal() + 1)
    if resolution == "day":
        first = day.replace(day=1)
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return first, nxt
    return date(day.year, 1, 1), date(day.year + 1, 1, 1)


def year_before(day: date) -> date:
    """The same date a year before (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def supplied_on(day: date, supplied: list[tuple[date, date | None]]) -> bool:
    """Whether *day* is inside one of the ``[start, end)`` supply dates (end None: open)."""
    return any(start <= day and (end is None or day < end) for start, end in supplied)
