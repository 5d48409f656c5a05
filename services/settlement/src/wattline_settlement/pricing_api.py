"""The spot price API: import from Energi Data Service (``POST
/api/settlement/spot-prices/import``), store an EDS JSON file (``POST .../upload``) and read
the stored prices back (``GET /api/settlement/spot-prices``).

API dates are Danish local dates and ``to`` is inclusive (``from=2025-01-01&to=2025-01-31``
is January).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.inputs import BusinessDate, require_supported_dates
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_settlement.adapters.prices import EdsError, InvalidSpotFile
from wattline_settlement.handlers import pricing
from wattline_settlement.settings import PriceArea, SettlementDep

MAX_API_DAYS = 366


# The responses are msgspec structs: they carry the keys ``from`` and ``to`` (a Python keyword),
# which a struct renames in its body and its schema alike (a pydantic alias is used by neither:
# the app dumps and documents models by field name).


class SpotImportOut(msgspec.Struct, frozen=True, rename={"from_date": "from", "to_date": "to"}):
    """What an import from Energi Data Service did (see :class:`SpotImport`)."""

    from_date: str
    to_date: str
    price_area: str
    start_utc: str
    end_utc: str
    expected: int
    received: int
    inserted: int
    updated: int
    unchanged: int
    missing: int


class SpotFileImportOut(msgspec.Struct, frozen=True):
    """What storing an EDS JSON file did: its prices received and how many were new, changed
    or unchanged, its price areas, and the records skipped (no price yet, other dataset's
    days)."""

    received: int
    inserted: int
    updated: int
    unchanged: int
    price_areas: list[str]
    without_price: int
    outside_dataset_days: int


class SpotPriceOut(msgspec.Struct, frozen=True):
    start: str
    resolution: str
    dkk_per_kwh: str
    source: str


class SpotPricesOut(msgspec.Struct, frozen=True, rename={"from_date": "from", "to_date": "to"}):
    price_area: str
    from_date: str
    to_date: str
    expected: int
    count: int
    prices: list[SpotPriceOut]


class SpotImportIn(BaseModel):
    """Import *price_area*'s prices of the local dates ``from``..``to`` (inclusive)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    price_area: PriceArea
    from_date: BusinessDate = Field(alias="from")
    to_date: BusinessDate = Field(alias="to")


def _check_range(first: date, last: date) -> None:
    require_supported_dates(first, last)
    if last < first:
        raise Problem(400, "invalid-date-range", "to is before from", f"{first}..{last}")
    if (last - first).days + 1 > MAX_API_DAYS:
        raise Problem(
            400, "invalid-date-range", f"At most {MAX_API_DAYS} days at once", f"{first}..{last}"
        )


class SpotPriceController(Controller):
    path = "/api/settlement/spot-prices"
    tags = ["settlement"]

    @post("/import", status_code=200, summary="Import day-ahead prices from Energi Data Service")
    async def import_(self, data: JSONBody[SpotImportIn], service: SettlementDep) -> SpotImportOut:
        _check_range(data.from_date, data.to_date)
        try:
            result = await pricing.import_days(
                service.database, service.settings, data.price_area, data.from_date, data.to_date
            )
        except EdsError as exc:
            raise Problem(
                502, "spot-source-unavailable", "Energi Data Service could not be read", str(exc)
            ) from None
        except InvalidSpotFile as exc:
            raise Problem(
                502, "spot-source-invalid", "Energi Data Service answered nonsense", str(exc)
            ) from None
        return SpotImportOut(
            from_date=data.from_date.isoformat(), to_date=data.to_date.isoformat(), **asdict(result)
        )

    @post("/upload", status_code=200, summary="Store day-ahead prices from an EDS JSON file")
    async def upload(
        self, request: Request[Any, Any, Any], service: ServiceDep
    ) -> SpotFileImportOut:
        body = await request.body()
        try:
            return SpotFileImportOut(
                **await pricing.import_spot_file(service.database, body, source="upload")
            )
        except InvalidSpotFile as exc:
            raise Problem(400, "invalid-spot-file", "Not a spot price file", str(exc)) from None

    @get("/", summary="Stored day-ahead prices (DKK/kWh) of local dates from..to (inclusive)")
    async def list_prices(
        self,
        service: ServiceDep,
        price_area: FromQuery[PriceArea],
        from_date: Annotated[date, QueryParameter(name="from")],
        to_date: Annotated[date, QueryParameter(name="to")],
    ) -> SpotPricesOut:
        _check_range(from_date, to_date)
        expected, prices = await pricing.list_spot(service.database, price_area, from_date, to_date)
        return SpotPricesOut(
            price_area=price_area,
            from_date=from_date.isoformat(),
            to_date=to_date.isoformat(),
            expected=expected,
            count=len(prices),
            prices=[SpotPriceOut(**p) for p in prices],
        )


ROUTES: list[Any] = [SpotPriceController]
