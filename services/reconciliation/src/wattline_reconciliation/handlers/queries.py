"""Reading the results: the list of days (keyset), a day's hours, an hour's metering points."""

from __future__ import annotations

import base64
import binascii
import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from wattline_reconciliation.adapters import store
from wattline_reconciliation.domain.energy import WH_PER_KWH, day_hours
from wattline_reconciliation.handlers import Reconciliation
from wattline_reconciliation.models import (
    DayDetail,
    DayResultOut,
    HourDetail,
    HourOut,
    PointOut,
    ResultPage,
)


class InvalidCursor(ValueError):
    """A cursor this service did not hand out."""


class NotFound(LookupError):
    """No results for that grid area and day (or no such hour)."""


def _encode(row: Any) -> str:
    raw = "|".join(
        (row["local_date"].isoformat(), row["grid_area"], row["metering_point_type"],
         row["settlement_method"])
    )  # fmt: skip
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[date, str, str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, area, mp_type, method = raw.split("|")
        if "\x00" in raw or len(raw) > 60:  # PostgreSQL text holds no NUL
            raise ValueError("not one of ours")
        return date.fromisoformat(day), area, mp_type, method
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None


def _month(period: str) -> tuple[date, date]:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _day(row: Any) -> DayResultOut:
    return DayResultOut(
        **{k: row[k] for k in DayResultOut.model_fields if k != "settlement_method"},
        settlement_method=row["settlement_method"] or None,
    )


async def results(
    rec: Reconciliation,
    *,
    period: str | None,
    grid_area: str | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> ResultPage:
    first, last = _month(period) if period else (None, None)
    rows = await store.list_results(
        rec.service.database,
        first=first,
        last=last,
        grid_area=grid_area,
        status=status,
        after=_decode(after) if after else None,
        limit=limit + 1,
    )
    page = rows[:limit]
    return ResultPage(
        items=[_day(r) for r in page], next=_encode(page[-1]) if len(rows) > limit else None
    )


async def day(rec: Reconciliation, grid_area: str, local_date: date) -> DayDetail:
    days, hours = await store.day_hours(rec.service.database, grid_area, local_date)
    if not days:
        raise NotFound(f"no results for grid area {grid_area} on {local_date}")
    return DayDetail(
        grid_area=grid_area,
        local_date=local_date,
        slices=[_day(r) for r in days],
        hours=[
            HourOut(
                **{k: h[k] for k in HourOut.model_fields if k != "settlement_method"},
                settlement_method=h["settlement_method"] or None,
            )
            for h in hours
        ],
    )


async def hour(rec: Reconciliation, grid_area: str, local_date: date, position: int) -> HourDetail:
    """The metering points that make up our side of one hour, with their values as stored."""
    starts = day_hours(local_date)
    if position >= len(starts):
        raise NotFound(f"{local_date} has {len(starts)} hours")
    async with rec.service.database.transaction() as tx:
        _, groups = await store.load_day(tx, grid_area, local_date)
    points = []
    for (mp_type, method), members in sorted(groups.items()):
        for p in members:
            wh = p.hour_wh(position)
            kwh = None if wh is None else (Decimal(wh) / WH_PER_KWH).quantize(Decimal("0.001"))
            points.append(PointOut(gsrn=p.gsrn, metering_point_type=mp_type,
                                   settlement_method=method or None, kwh=kwh))  # fmt: skip
    if not points:
        raise NotFound(f"no metering points of ours in grid area {grid_area} on {local_date}")
    return HourDetail(
        grid_area=grid_area,
        local_date=local_date,
        position=position,
        hour_start=starts[position],
        ours_kwh=sum((p.kwh for p in points if p.kwh is not None), Decimal("0.000")),
        points=points,
    )
