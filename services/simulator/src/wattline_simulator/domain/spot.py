"""Energi Data Service offline: synthetic day-ahead prices in EDS's datasets and query rules.

``Elspotprices`` (hourly, until the local day 2025-09-30) and ``DayAheadPrices`` (15-minute,
from the local day 2025-10-01), for the price areas DK1 and DK2. Prices are deterministic
(a hash of area and time) with realistic levels, daily peaks, winter/summer and some negative
hours. Exact arithmetic only: EUR prices are 2-decimal market prices written as EDS writes
them (32-bit float artefacts, ``77.21`` -> ``77.209999``, emulated with integers); DKK is
EUR x the day's exchange rate (6 decimals), before 2025-02-01 itself a 2-decimal price.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

DANISH_TZ = ZoneInfo("Europe/Copenhagen")
AREAS = ("DK1", "DK2")
DEFAULT_LIMIT = 100


def _local_midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=DANISH_TZ).astimezone(UTC)


@dataclass(frozen=True)
class Dataset:
    """One EDS dataset: its fields in order and the UTC span the simulator serves."""

    name: str
    time_field: str  # the UTC start of the interval; the dataset's filter/sort key
    local_field: str
    fields: tuple[str, ...]
    step: timedelta
    first: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC


ELSPOTPRICES = Dataset(
    "Elspotprices",
    "HourUTC",
    "HourDK",
    ("HourUTC", "HourDK", "PriceArea", "SpotPriceDKK", "SpotPriceEUR"),
    timedelta(hours=1),
    _local_midnight(2024, 1, 1),
    _local_midnight(2025, 10, 1),  # discontinued: no data after the local day 2025-09-30
)
DAYAHEADPRICES = Dataset(
    "DayAheadPrices",
    "TimeUTC",
    "TimeDK",
    ("TimeUTC", "TimeDK", "PriceArea", "DayAheadPriceEUR", "DayAheadPriceDKK"),
    timedelta(minutes=15),
    _local_midnight(2025, 10, 1),
    _local_midnight(2027, 1, 1),
)
DATASETS = {d.name: d for d in (ELSPOTPRICES, DAYAHEADPRICES)}


class QueryError(ValueError):
    """A request EDS would refuse (400), with the reason."""


# --- prices -------------------------------------------------------------------------------


def _hash(*parts: object) -> int:
    text = "/".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


# EUR cents added per local hour: cheap nights, morning and evening peaks.
_HOUR_SHAPE = (
    *(-2600, -2800, -3000, -3000, -2700, -1800, -200, 2400, 3000, 1800, 600, 200),
    *(0, 0, 200, 800, 2000, 4200, 4800, 3800, 2000, 800, -400, -1600),
)


def _hour_cents(area: str, hour_utc: datetime) -> int:
    """The hour's EUR/MWh price in cents."""
    local = hour_utc.astimezone(DANISH_TZ)
    winter = local.month in (10, 11, 12, 1, 2, 3)
    cents = 8_500 if winter else 6_000
    cents += _HOUR_SHAPE[local.hour]
    if not winter and 10 <= local.hour <= 15:
        cents -= 3_500  # solar in the middle of summer days
    if area == "DK2":
        cents += 600
    cents += _hash("day", local.date().isoformat()) % 5_001 - 2_500  # the day's level (wind)
    noise = _hash(area, hour_utc.isoformat())
    cents += noise % 3_001 - 1_500
    sunny_or_windy = 10 <= local.hour <= 15 or local.hour <= 5
    if sunny_or_windy and (noise >> 16) % 100 < 6:
        cents = -((noise >> 24) % 2_500) - 1  # a negative hour: -0.01 .. -25.00
    return cents


def _eur_cents(dataset: Dataset, area: str, start: datetime) -> int:
    if dataset.step == timedelta(hours=1):
        return _hour_cents(area, start)
    hour = start.replace(minute=0)
    cents = _hour_cents(area, hour)
    if start.minute:
        cents += _hash(area, start.isoformat()) % 1_601 - 800  # quarters vary around the hour
    return cents


def _rate_ten_thousandths(day: date) -> int:
    """The day's DKK per EUR, in 1/10,000 (e.g. 74,612 = 7.4612)."""
    return 74_550 + _hash("rate", day.isoformat()) % 150


def _float32(value: Fraction) -> Fraction:
    """*value* rounded to the nearest IEEE 754 single (24-bit significand, ties to even)."""
    if value == 0:
        return value
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    while Fraction(2) ** exponent > magnitude:
        exponent -= 1
    while Fraction(2) ** (exponent + 1) <= magnitude:
        exponent += 1
    unit = Fraction(2) ** (exponent - 23)
    rounded = round(magnitude / unit) * unit
    return rounded if value > 0 else -rounded


def _micro_decimal(micro: int) -> Decimal:
    """Micro-units as an EDS number: up to 6 decimals, trailing zeros dropped."""
    sign = "-" if micro < 0 else ""
    whole, fraction = divmod(abs(micro), 1_000_000)
    text = f"{whole}.{fraction:06d}".rstrip("0").rstrip(".")
    return Decimal(sign + text)


def as_stored_float32(cents: int) -> Decimal:
    """A 2-decimal price as EDS writes a 32-bit float: 7721 -> 77.209999, 7050 -> 70.5."""
    return _micro_decimal(round(_float32(Fraction(cents, 100)) * 1_000_000))


def prices(dataset: Dataset, area: str, start: datetime) -> tuple[Decimal, Decimal]:
    """``(DKK, EUR)`` per MWh of *area* for the interval starting at *start* (UTC)."""
    eur_cents = _eur_cents(dataset, area, start)
    day = start.astimezone(DANISH_TZ).date()
    rate = _rate_ten_thousandths(day)
    if day < date(2025, 2, 1):
        # Nord Pool's 2-decimal DKK price (ROUND_HALF_UP of EUR x rate), stored as float32.
        dkk_cents_x10000 = eur_cents * rate
        dkk_cents = (abs(dkk_cents_x10000) + 5_000) // 10_000
        dkk = as_stored_float32(dkk_cents if dkk_cents_x10000 >= 0 else -dkk_cents)
    else:
        dkk = _micro_decimal(eur_cents * rate)  # cents x 1/10,000 = micro-units exactly
    return dkk, as_stored_float32(eur_cents)


# --- records and queries ------------------------------------------------------------------


def _wall(instant: datetime, tz: ZoneInfo | None = None) -> str:
    shown = instant.astimezone(tz) if tz else instant.astimezone(UTC)
    return shown.strftime("%Y-%m-%dT%H:%M:%S")


def record(dataset: Dataset, area: str, start: datetime) -> dict[str, Any]:
    """One record, fields in the dataset's order."""
    dkk, eur = prices(dataset, area, start)
    values = {
        dataset.time_field: _wall(start),
        dataset.local_field: _wall(start, DANISH_TZ),
        "PriceArea": area,
        "SpotPriceDKK": dkk,
        "SpotPriceEUR": eur,
        "DayAheadPriceEUR": eur,
        "DayAheadPriceDKK": dkk,
    }
    return {field: values[field] for field in dataset.fields}


_ABSOLUTE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?Z?)?)?)?")
_RELATIVE = re.compile(r"(now|StartOfDay|StartOfMonth|StartOfYear)(?:([+\- ])(P.*))?", re.I)
_DURATION = re.compile(
    r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?"
)


def _shift(local: datetime, sign: int, duration: str) -> datetime:
    match = _DURATION.fullmatch(duration)
    if not match or duration in ("P", "PT"):
        raise QueryError(f"invalid ISO 8601 duration {duration!r}")
    years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    month_index = local.year * 12 + local.month - 1 + sign * (years * 12 + months)
    year, month = divmod(month_index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    moved = local.replace(year=year, month=month + 1, day=day)
    wall = moved + sign * timedelta(weeks=weeks, days=days)  # calendar days, wall clock
    absolute = wall.astimezone(UTC) + sign * timedelta(
        hours=hours, minutes=minutes, seconds=seconds
    )
    return absolute.astimezone(local.tzinfo)


def parse_time(value: str, tz: ZoneInfo, now: datetime) -> datetime:
    """An EDS ``start``/``end`` (absolute in *tz*, or relative to *now*) as a UTC instant."""
    text = value.strip()
    absolute = _ABSOLUTE.fullmatch(text)
    if absolute:
        year, month, day, hour, minute, second = (int(g) if g else None for g in absolute.groups())
        try:
            local = datetime(
                year or 1, month or 1, day or 1, hour or 0, minute or 0, second or 0, tzinfo=tz
            )
        except ValueError as exc:
            raise QueryError(f"invalid date {value!r}: {exc}") from None
        return local.astimezone(UTC)
    relative = _RELATIVE.fullmatch(text)
    if not relative:
        raise QueryError(f"invalid date {value!r}")
    base, sign, duration = relative.groups()
    local = now.astimezone(tz)
    base = base.lower()
    if base != "now":
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if base in ("startofmonth", "startofyear"):
            local = local.replace(day=1)
        if base == "startofyear":
            local = local.replace(month=1)
        local = datetime(local.year, local.month, local.day, tzinfo=tz)
    if duration:
        local = _shift(local, -1 if sign == "-" else 1, duration)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Query:
    """A parsed EDS dataset request."""

    start: datetime | None = None
    end: datetime | None = None
    filters: Mapping[str, tuple[str, ...]] | None = None
    filter_text: str | None = None  # the filter as the envelope echoes it
    sort: tuple[tuple[str, bool], ...] = ()  # (column, descending)
    sort_text: str | None = None
    offset: int = 0
    limit: int | None = None  # None: not given
    columns: tuple[str, ...] | None = None


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit():
        raise QueryError(f"{name} must be a whole number >= 0, got {raw!r}")
    return int(raw)


def parse_query(dataset: Dataset, params: Mapping[str, str], now: datetime) -> Query:
    """Read EDS query parameters (start, end, timezone, filter, sort, offset, limit, columns)."""
    zone = (params.get("timezone") or "dk").strip().lower()
    if zone not in ("dk", "utc"):
        raise QueryError(f"timezone must be UTC or DK, got {params.get('timezone')!r}")
    tz = ZoneInfo("UTC") if zone == "utc" else DANISH_TZ
    start = parse_time(params["start"], tz, now) if params.get("start") else None
    end = parse_time(params["end"], tz, now) if params.get("end") else None

    filters: dict[str, tuple[str, ...]] | None = None
    filter_text = None
    if params.get("filter"):
        try:
            raw = json.loads(params["filter"])
        except ValueError:
            raise QueryError("filter must be a JSON object") from None
        if not isinstance(raw, dict):
            raise QueryError("filter must be a JSON object")
        filters = {}
        for column, allowed in raw.items():
            if column not in dataset.fields:
                raise QueryError(f"unknown filter column {column!r}")
            values = allowed if isinstance(allowed, list) else [allowed]
            filters[column] = tuple(str(v) for v in values)
        filter_text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)

    sort: list[tuple[str, bool]] = []
    sort_text = params.get("sort") or None
    for part in (sort_text or "").split(","):
        words = part.split()
        if not words:
            continue
        column = words[0]
        match = next((f for f in dataset.fields if f.lower() == column.lower()), None)
        if match is None or len(words) > 2:
            raise QueryError(f"cannot sort by {part.strip()!r}")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise QueryError(f"sort direction must be ASC or DESC, got {words[1]!r}")
        sort.append((match, direction == "desc"))

    columns = None
    if params.get("columns"):
        wanted = [c.strip() for c in params["columns"].split(",") if c.strip()]
        unknown = [c for c in wanted if c not in dataset.fields]
        if unknown:
            raise QueryError(f"unknown columns {unknown}")
        columns = tuple(f for f in dataset.fields if f in wanted)

    return Query(
        start=start,
        end=end,
        filters=filters,
        filter_text=filter_text,
        sort=tuple(sort),
        sort_text=sort_text,
        offset=_int_param(params, "offset") or 0,
        limit=_int_param(params, "limit"),
        columns=columns,
    )


def _instants(dataset: Dataset, start: datetime | None, end: datetime | None) -> list[datetime]:
    first = dataset.first if start is None else max(start, dataset.first)
    stop = dataset.end if end is None else min(end, dataset.end)
    if first >= stop:
        return []
    offset = (first - dataset.first) % dataset.step
    if offset:
        first += dataset.step - offset  # the first interval starting inside the window
    count = -(-(stop - first) // dataset.step)
    return [first + i * dataset.step for i in range(max(count, 0))]


def answer(dataset: Dataset, query: Query) -> dict[str, Any]:
    """The response body: envelope keys in EDS's order, then the records."""
    areas = list(AREAS)
    if query.filters and "PriceArea" in query.filters:
        areas = [a for a in areas if a in query.filters["PriceArea"]]
    keys = [(t, a) for t in _instants(dataset, query.start, query.end) for a in areas]

    # Columns other than time and area need the prices: compute whole records then.
    cheap = {dataset.time_field, "PriceArea"}
    other_filters = {c: v for c, v in (query.filters or {}).items() if c != "PriceArea"}
    needs_records = bool(other_filters) or any(c not in cheap for c, _ in query.sort)
    rows: list[tuple[datetime, str, dict[str, Any] | None]] = [
        (t, a, record(dataset, a, t) if needs_records else None) for t, a in keys
    ]
    if other_filters:
        rows = [
            r
            for r in rows
            if r[2] is not None
            and all(str(r[2][c]) in allowed for c, allowed in other_filters.items())
        ]

    # Ties (DK1/DK2 within an interval) in area order; no sort: newest first.
    rows.sort(key=lambda r: r[1])
    rows.sort(key=lambda r: r[0], reverse=not query.sort)
    for column, descending in reversed(query.sort):
        rows.sort(key=_sort_key(dataset, column), reverse=descending)

    total = len(rows)
    limit = query.limit
    if limit is None and query.start is None:
        limit = DEFAULT_LIMIT
    page = rows[query.offset :]
    if limit:
        page = page[:limit]
    records = [r[2] if r[2] is not None else record(dataset, r[1], r[0]) for r in page]
    if query.columns is not None:
        records = [{c: rec[c] for c in query.columns} for rec in records]

    body: dict[str, Any] = {"total": total}
    if query.filter_text is not None:
        body["filters"] = query.filter_text
    if query.sort_text is not None:
        body["sort"] = query.sort_text
    if query.limit is not None:
        body["limit"] = query.limit
    body["dataset"] = dataset.name
    body["records"] = records
    return body


def _sort_key(
    dataset: Dataset, column: str
) -> Callable[[tuple[datetime, str, dict[str, Any] | None]], Any]:
    if column == dataset.time_field:
        return lambda r: r[0]
    if column == "PriceArea":
        return lambda r: r[1]

    def key(r: tuple[datetime, str, dict[str, Any] | None]) -> Any:
        assert r[2] is not None
        return r[2][column]

    return key
