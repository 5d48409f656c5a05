"""Danish local-day view of RSM-012 series (used by ingestion and the CLI)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

from wattline_cim._time import DANISH_TZ, FIXED_STEPS, fmt_minutes, local_midnight_utc
from wattline_cim.errors import CimError
from wattline_cim.models import MeasureSeries

_KWH = Decimal("0.001")


class LocalDay(BaseModel):
    """One metering point's quantities for one Europe/Copenhagen calendar day, in time order.

    A day has 23, 24 or 25 hours, so 23/24/25 values at PT1H and 92/96/100 at PT15M.
    `received` marks the positions the series carried; the others are missing (None) and
    wait for a later message.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gsrn: str
    local_date: date
    resolution: str
    values: tuple[Decimal | None, ...]
    qualities: tuple[str | None, ...]
    received: tuple[bool, ...] | None = None  # None: every position was received

    @model_validator(mode="after")
    def _same_length(self) -> Self:
        if len(self.values) != len(self.qualities):
            raise ValueError("values and qualities must have the same length")
        if self.received is not None and len(self.received) != len(self.values):
            raise ValueError("received must have one flag per value")
        return self

    @property
    def complete(self) -> bool:
        """True when every position of the day was received."""
        return self.received is None or all(self.received)


def local_days(series: MeasureSeries) -> list[LocalDay]:
    """Split an RSM-012 series (PT15M or PT1H) into Danish local days.

    Each day it touches comes out whole (23-25 hours): the positions the series carries have
    their values, the rest are missing (None, not received). A series must start and end on
    a whole step of its resolution in local time (a whole hour at PT1H, quarter at PT15M),
    else CimError.
    """
    step = FIXED_STEPS.get(series.resolution)
    if step is None:
        raise CimError(f"local days need PT15M or PT1H, not {series.resolution}")
    for bound in (series.start, series.end):
        if (bound - local_midnight_utc(bound.astimezone(DANISH_TZ).date())) % step:
            raise CimError(
                f"series {fmt_minutes(series.start)}..{fmt_minutes(series.end)} does not start "
                f"and end on a whole {series.resolution} step"
            )
    points = {p.position: p for p in series.points}
    days: list[LocalDay] = []
    day = series.start.astimezone(DANISH_TZ).date()
    while (day_start := local_midnight_utc(day)) < series.end:
        following = day + timedelta(days=1)
        count = (local_midnight_utc(following) - day_start) // step
        values: list[Decimal | None] = [None] * count
        qualities: list[str | None] = [None] * count
        received = [False] * count
        first = max(series.start, day_start)
        last = min(series.end, local_midnight_utc(following))
        for offset in range((first - day_start) // step, (last - day_start) // step):
            point = points.get((day_start + offset * step - series.start) // step + 1)
            if point is not None:
                values[offset], qualities[offset] = point.quantity, point.quality
                received[offset] = True
        days.append(
            LocalDay(
                gsrn=series.gsrn,
                local_date=day,
                resolution=series.resolution,
                values=tuple(values),
                qualities=tuple(qualities),
                received=None if all(received) else tuple(received),
            )
        )
        day = following
    return days


def local_day_json(day: LocalDay) -> str:
    """One JSON line: gsrn, local_date, resolution, kwh (3-decimal strings, ROUND_HALF_UP)
    and quality, with null for a missing value or quality."""
    return json.dumps(
        {
            "gsrn": day.gsrn,
            "local_date": day.local_date.isoformat(),
            "resolution": day.resolution,
            "kwh": [
                None if v is None else str(v.quantize(_KWH, rounding=ROUND_HALF_UP))
                for v in day.values
            ],
            "quality": list(day.qualities),
        }
    )
