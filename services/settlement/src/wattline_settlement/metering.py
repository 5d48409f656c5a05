"""Metering data: the store of DataHub's measure data, its consumers and its API.

``datahub.measure_data.received`` events are stored by :func:`on_measure_data`, a batch of
them at a time (one COPY; see ``adapters/metering_data.py``). ``GET
/api/metering-points/{gsrn}/consumption`` reads the latest versions back at PT15M, PT1H, P1D or
P1M. Missing values stay missing: a point with a missing value has ``kwh`` null and quality
A02, and so does the total; they are never counted as zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated, Any

import asyncpg
from litestar import get
from litestar.params import FromPath, FromQuery, QueryParameter
from wattline_contracts import Envelope
from wattline_contracts.datahub import MeasureDataReceivedV1
from wattline_platform.business_days import local_midnight
from wattline_platform.identifiers import is_valid_gsrn
from wattline_platform.logging import get_logger
from wattline_platform.problem import Problem
from wattline_platform.service import Service, ServiceDep

from wattline_settlement.adapters import metering_data
from wattline_settlement.adapters.metering_data import (
    QUALITY_CODES,
    STEP,
    DayData,
)

log = get_logger(__name__)

MAX_DAYS = 400
RESOLUTIONS = ("PT15M", "PT1H", "P1D", "P1M")
MISSING = "A02"
# How bad a quality is, by stored code: A02 missing > A05 incomplete > A03 estimated >
# A06 calculated > A04 measured. A value given without a quality counts as measured.
_RANK = {None: 0, 4: 0, 6: 1, 3: 2, 5: 3, 2: 4}
_WORST = {0: "A04", 1: "A06", 2: "A03", 3: "A05", 4: "A02"}
_CODE: dict[str | None, int | None] = {None: None}
_CODE.update(QUALITY_CODES)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- consuming ---------------------------------------------------------------------------------
async def on_measure_data(
    tx: asyncpg.Connection, items: Sequence[tuple[MeasureDataReceivedV1, Envelope]]
) -> None:
    """Store the received days as new versions, all in one load (inside the batch's tx)."""
    days = [metering_data.measure_day(event, envelope.event_id) for event, envelope in items]
    stored = await metering_data.store(tx, days)
    log.info(
        "measure_data_stored",
        days=len(stored),
        corrections=sum(1 for change in stored if change.version > 1),
    )


def register(service: Service) -> None:
    """Subscribe the metering-data handlers."""
    assert service.consumer is not None
    service.consumer.on_batch(MeasureDataReceivedV1)(on_measure_data)


# -- the consumption API -----------------------------------------------------------------------
def _kwh(wh: int) -> str:
    whole, part = divmod(abs(wh), 1000)
    return f"{'-' if wh < 0 else ''}{whole}.{part:03d}"


@lru_cache(maxsize=8192)
def _stamps(day: date, resolution: str) -> tuple[str, ...]:
    """UTC ISO start of each interval of a local day."""
    first, step = local_midnight(day), STEP[resolution]
    count = metering_data.positions(day, resolution)
    return tuple((first + k * step).strftime("%Y-%m-%dT%H:%M:%SZ") for k in range(count))


def _day_total(day: DayData | None) -> tuple[int | None, int]:
    """A day's Wh (None when anything is missing) and the rank of its worst quality."""
    if day is None or None in day.wh:
        return None, 4
    return sum(day.wh), max(_RANK[_CODE[q]] for q in day.qualities)  # type: ignore[arg-type]


def _intervals(day: DayData, resolution: str) -> tuple[tuple[int | None, ...], tuple[int, ...]]:
    """A day's values and quality ranks at *resolution* (PT15M summed to hours if needed)."""
    ranks = tuple(_RANK[_CODE[q]] for q in day.qualities)
    if day.resolution == resolution:
        return day.wh, ranks
    # PT15M stored, PT1H wanted: hour h is quarters 4h..4h+3.
    values: list[int | None] = []
    worst: list[int] = []
    for h in range(0, len(day.wh), 4):
        quarter = day.wh[h : h + 4]
        values.append(None if None in quarter else sum(quarter))  # type: ignore[arg-type]
        worst.append(max(ranks[h : h + 4]))
    return tuple(values), tuple(worst)


def consumption_document(
    gsrn: str,
    start: date,
    end: date,
    resolution: str,
    days: dict[date, DayData],
) -> dict[str, Any]:
    """The response body: points at *resolution* over the local dates ``[start, end)``.

    A point's quality is the worst of its values'; a point with a missing value (or a day
    without data) has ``kwh`` null and quality A02, and then ``total_kwh`` is null too.
    """
    points: list[dict[str, Any]] = []
    total = 0
    missing = 0
    n_days = (end - start).days
    local_days = [start + timedelta(days=k) for k in range(n_days)]
    if resolution in ("PT15M", "PT1H"):
        for d in local_days:
            stamps = _stamps(d, resolution)
            day = days.get(d)
            if day is None:
                missing += len(stamps)
                points.extend({"start": s, "kwh": None, "quality": MISSING} for s in stamps)
                continue
            values, ranks = _intervals(day, resolution)
            for stamp, wh, rank in zip(stamps, values, ranks, strict=True):
                if wh is None:
                    missing += 1
                    points.append({"start": stamp, "kwh": None, "quality": MISSING})
                else:
                    total += wh
                    points.append({"start": stamp, "kwh": _kwh(wh), "quality": _WORST[rank]})
    else:
        # P1D: one point per local day; P1M: per local month (from the first day asked for).
        buckets: dict[tuple[int, int] | date, list[date]] = {}
        for d in local_days:
            buckets.setdefault(d if resolution == "P1D" else (d.year, d.month), []).append(d)
        for members in buckets.values():
            wh_sum: int | None = 0
            worst = 0
            for d in members:
                wh, rank = _day_total(days.get(d))
                worst = max(worst, rank)
                wh_sum = None if wh is None or wh_sum is None else wh_sum + wh
            stamp = _stamps(members[0], "PT1H")[0]
            if wh_sum is None:
                missing += 1
                points.append({"start": stamp, "kwh": None, "quality": MISSING})
            else:
                total += wh_sum
                points.append({"start": stamp, "kwh": _kwh(wh_sum), "quality": _WORST[worst]})
    return {
        "gsrn": gsrn,
        "resolution": resolution,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total_kwh": None if missing else _kwh(total),
        "missing_points": missing,
        "points": points,
    }


def _date(value: str | None, name: str) -> date:
    if not value:
        raise Problem(400, "invalid-period", "Invalid period", f"'{name}' (YYYY-MM-DD) is required")
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(
            400, "invalid-period", "Invalid period", f"'{name}' must be a date YYYY-MM-DD"
        ) from None


def _parameters(
    gsrn: str, start: str | None, end: str | None, resolution: str | None
) -> tuple[date, date]:
    if not is_valid_gsrn(gsrn):
        raise Problem(400, "invalid-gsrn", "Invalid GSRN", f"{gsrn!r} is not a valid GSRN")
    first, last = _date(start, "from"), _date(end, "to")
    if first >= last:
        raise Problem(400, "invalid-period", "Invalid period", "'from' must be before 'to'")
    if (last - first).days > MAX_DAYS:
        raise Problem(
            400, "period-too-long", "Period too long", f"at most {MAX_DAYS} days per request"
        )
    if resolution is not None and resolution not in RESOLUTIONS:
        raise Problem(
            400,
            "invalid-resolution",
            "Invalid resolution",
            f"resolution must be one of {', '.join(RESOLUTIONS)}",
        )
    return first, last


@get(
    "/api/metering-points/{gsrn:str}/consumption",
    summary="A metering point's metered consumption (latest versions) over local dates",
    description=(
        "`from`/`to`: Danish local dates, `to` exclusive, at most 400 days. `resolution`: "
        "PT15M (only from PT15M data), PT1H, P1D or P1M; default the stored resolution. "
        "kWh with 3 decimals; a point with a missing value has kwh null and quality A02."
    ),
    tags=["metering data"],
)
async def consumption(
    gsrn: FromPath[str],
    service: ServiceDep,
    from_: Annotated[str | None, QueryParameter(name="from")] = None,
    to: FromQuery[str | None] = None,
    resolution: FromQuery[str | None] = None,
) -> dict[str, Any]:
    start, end = _parameters(gsrn, from_, to, resolution)
    async with service.database.connection() as conn:
        days = (await metering_data.latest_days(conn, [gsrn], start, end)).get(gsrn, {})
        stored = {d.resolution for d in days.values()}
        if not stored:
            last = await metering_data.last_resolution(conn, gsrn)
            if last is None:
                raise Problem(
                    404, "metering-data-not-found", "No metering data for this GSRN", gsrn
                )
            stored = {last}
    if resolution is None:
        resolution = "PT15M" if stored == {"PT15M"} else "PT1H"
    elif resolution == "PT15M" and stored != {"PT15M"}:
        raise Problem(
            400,
            "resolution-unavailable",
            "Resolution unavailable",
            "PT15M needs quarter-hour data; this period has hourly data",
        )
    return consumption_document(gsrn, start, end, resolution, days)


ROUTES: list[Any] = [consumption]
