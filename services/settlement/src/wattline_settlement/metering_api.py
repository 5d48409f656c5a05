"""The metering-data API: ``GET /api/metering-points/{gsrn}/consumption`` reads the latest
versions back at PT15M, PT1H, P1D or P1M (the document: ``domain/consumption.py``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from litestar import get
from litestar.params import FromPath, FromQuery, QueryParameter
from wattline_platform.identifiers import is_valid_gsrn
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_settlement.domain.consumption import (
    RESOLUTIONS,
    Consumption,
    NoMeteringData,
    ResolutionUnavailable,
)
from wattline_settlement.handlers import metering

MAX_DAYS = 400
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
        "kWh with 3 decimals. A point sums the values it has: kwh is null (quality A02) only "
        "when it has none; with some missing its quality is A05 and missing_intervals counts "
        "them (at interval_resolution). total_kwh sums all values present; `missing` lists "
        "the stretches without values as UTC [start, end); `complete` is true when there are "
        "none."
    ),
    tags=["metering data"],
)
async def consumption(
    gsrn: FromPath[str],
    service: ServiceDep,
    from_: Annotated[str | None, QueryParameter(name="from")] = None,
    to: FromQuery[str | None] = None,
    resolution: FromQuery[str | None] = None,
) -> Consumption:
    start, end = _parameters(gsrn, from_, to, resolution)
    try:
        return await metering.consumption(service.database, gsrn, start, end, resolution)
    except NoMeteringData:
        raise Problem(
            404, "metering-data-not-found", "No metering data for this GSRN", gsrn
        ) from None
    except ResolutionUnavailable as exc:
        raise Problem(400, "resolution-unavailable", "Resolution unavailable", str(exc)) from None


ROUTES: list[Any] = [consumption]
