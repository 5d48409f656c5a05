"""Danish local-day view of RSM-012 series (used by ingestion and the CLI)."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
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
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gsrn: str
    local_date: date
    resolution: str
    values: tuple[Decimal | None, ...]
    qualities: tuple[str | None, ...]

    @model_validator(mode="after")
    def _same_length(self) -> Self:
        if len(self.values) != len(self.qualities):
            raise ValueError("values and qualities must have the same length")
        return self


def local_days(series: MeasureSeries) -> list[LocalDay]:
    """Split an RSM-012 series (PT15M or PT1H) into Danish local days.

    The series must start and end on local midnight (23:00Z in winter, 22:00Z in summer):
    DataHub sends whole days, so anything else raises CimError.
    """
    step = FIXED_STEPS.get(series.resolution)
    if step is None:
        raise CimError(f"local days need PT15M or PT1H, not {series.resolution}")
    first = series.start.astimezone(DANISH_TZ)
    last = series.end.astimezone(DANISH_TZ)
    if first.time() != time(0) or last.time() != time(0):
        raise CimError(
            f"series {fmt_minutes(series.start)}..{fmt_minutes(series.end)} does not start "
            "and end on Danish local midnight"
        )
    days: list[LocalDay] = []
    offset = 0
    day = first.date()
    while day < last.date():
        following = day + timedelta(days=1)
        count = (local_midnight_utc(following) - local_midnight_utc(day)) // step
        points = series.points[offset : offset + count]
        offset += count
        days.append(
            LocalDay(
                gsrn=series.gsrn,
                local_date=day,
                resolution=series.resolution,
                values=tuple(p.quantity for p in points),
                qualities=tuple(p.quality for p in points),
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
