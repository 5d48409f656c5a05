"""The customer portal's consumption (``GET /api/settlement/portal/metering-points/{gsrn}/
consumption``) and spot prices (``GET /api/settlement/portal/spot-prices``), for a customer's
portal token only (``FOR_CUSTOMERS``).

The customer is the identity's and nothing else; a GSRN that is not one of their metering
points is 404, as one that does not exist. Hours of a Danish local day, days of a month or
months of a year, each beside the same period a year before; days and months are sums of the
same hourly values (the metering-data API's document), so they add up to the øre of a Wh.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar import get
from litestar.openapi.spec import Example
from litestar.params import FromPath, QueryParameter
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.business_days import local_midnight
from wattline_platform.identifiers import is_valid_gsrn
from wattline_platform.identity import FOR_CUSTOMERS, IdentityDep
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_settlement.domain import charge_rules
from wattline_settlement.domain.consumption import Consumption, portal_period, year_before
from wattline_settlement.handlers import portal

Resolution = Literal["hour", "day", "month"]
FIRST_DAY, LAST_DAY = date(2000, 1, 2), date(2100, 1, 1)
_RANGE = f"{FIRST_DAY}..{LAST_DAY}"


def _date_parameter(description: str) -> Any:
    # The range in the document (a JSON Schema date has no minimum): a client, and the fuzzer,
    # can tell a date outside it, answered 400, from one the schema allows.
    return QueryParameter(
        name="date",
        description=f"{description}, {_RANGE}",
        examples=[Example(summary="a day in January 2025", value="2025-01-15")],
    )


def _checked(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Problem(400, "invalid-period", "Invalid period", f"date outside {_RANGE}")
    return day


class PortalPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: str = Field(description="start of the hour, day or month (UTC)")
    kwh: str | None = Field(description="kWh, 3 decimals; null when no value arrived")
    complete: bool = Field(description="every hour of it has a value")


class PortalPeriod(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_date: date = Field(description="first Danish local date")
    to_date: date = Field(description="day after the last (exclusive)")
    total_kwh: str | None
    points: list[PortalPoint]


class PortalConsumption(BaseModel):
    """A metering point's consumption and the same period a year before."""

    model_config = ConfigDict(frozen=True)

    gsrn: str
    resolution: Resolution
    current: PortalPeriod
    last_year: PortalPeriod


def _portal_period(doc: Consumption, start: date, end: date) -> PortalPeriod:
    return PortalPeriod(
        from_date=start,
        to_date=end,
        total_kwh=doc["total_kwh"],
        points=[
            PortalPoint(start=p["start"], kwh=p["kwh"], complete=p["missing_intervals"] == 0)
            for p in doc["points"]
        ],
    )


@get(
    "/api/settlement/portal/metering-points/{gsrn:str}/consumption",
    summary="Portal: my consumption by hour, day or month, beside last year's",
    description=(
        "For a customer's portal token. `resolution=hour`: the hours of the local day "
        "`date`; `day`: the days of its month; `month`: the months of its year. `last_year` "
        "is the same period a year before. Days and months sum the same hourly values. "
        "A GSRN that is not the customer's is 404."
    ),
    tags=["portal"],
    opt=FOR_CUSTOMERS,
)
async def portal_consumption(
    gsrn: FromPath[str],
    service: ServiceDep,
    identity: IdentityDep,
    resolution: Annotated[Resolution, QueryParameter(description="hour, day or month")],
    day: Annotated[date, _date_parameter("a Danish local date in the period")],
) -> PortalConsumption:
    customer = identity.customer
    if customer is None:  # FOR_CUSTOMERS lets only portal tokens in
        raise Problem(403, "portal-only", "Only for a customer's portal token")
    _checked(day)
    not_found = Problem(404, "metering-point-not-found", "Unknown metering point", gsrn)
    if not is_valid_gsrn(gsrn):
        raise not_found
    try:
        supplied = await portal.supply_dates(service.database, customer, gsrn)
    except portal.NotTheirs:
        raise not_found from None
    start, end = portal_period(resolution, day)
    before = portal_period(resolution, year_before(day))
    assert local_midnight(start) < local_midnight(end)
    current = await portal.consumption(service.database, gsrn, resolution, start, end, supplied)
    last_year = await portal.consumption(service.database, gsrn, resolution, *before, supplied)
    return PortalConsumption(
        gsrn=gsrn,
        resolution=resolution,
        current=_portal_period(current, start, end),
        last_year=_portal_period(last_year, *before),
    )


class PortalSpotPrice(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: str = Field(description="start of the hour or quarter (UTC)")
    dkk_per_kwh: Decimal = Field(description="day-ahead price, excl. VAT, charges and margin")


class PortalPriceArea(BaseModel):
    model_config = ConfigDict(frozen=True)

    price_area: Literal["DK1", "DK2"]
    gsrns: list[str] = Field(description="the customer's metering points in this area")
    resolution: Literal["PT1H", "PT15M"] = Field(description="the market's resolution that day")
    prices: list[PortalSpotPrice] = Field(description="in time order; empty: not published yet")


class PortalSpotPrices(BaseModel):
    """The day-ahead spot prices of a Danish local day in the customer's price areas."""

    model_config = ConfigDict(frozen=True)

    day: date = Field(description="the Danish local date")
    areas: list[PortalPriceArea]


@get(
    "/api/settlement/portal/spot-prices",
    summary="Portal: the spot prices of a day in my price area",
    description=(
        "For a customer's portal token. The day-ahead prices (Energi Data Service, DKK/kWh "
        "excl. VAT) of the local day `date` in the price area of each of the customer's "
        "metering points supplied that day (or, if none is, of every one they had). A "
        "customer without metering points gets 404."
    ),
    tags=["portal"],
    opt=FOR_CUSTOMERS,
)
async def portal_spot_prices(
    service: ServiceDep,
    identity: IdentityDep,
    day: Annotated[date, _date_parameter("a Danish local date")],
) -> PortalSpotPrices:
    customer = identity.customer
    if customer is None:  # FOR_CUSTOMERS lets only portal tokens in
        raise Problem(403, "portal-only", "Only for a customer's portal token")
    _checked(day)
    try:
        found = await portal.spot_prices(service.database, customer, day)
    except portal.NoMeteringPoints:
        raise Problem(
            404, "no-metering-points", "No metering points", "the customer has none"
        ) from None
    return PortalSpotPrices(
        day=day,
        areas=[
            PortalPriceArea(
                price_area=area,  # CHECK (price_area IN ('DK1', 'DK2'))
                gsrns=gsrns,
                resolution=charge_rules.spot_resolution(day),
                prices=[
                    # As the consumption's points write their starts (with seconds).
                    PortalSpotPrice(start=f"{at:%Y-%m-%dT%H:%M:%S}Z", dkk_per_kwh=price)
                    for at, price in sorted(spot.items())
                ],
            )
            for area, (gsrns, spot) in found.items()
        ],
    )


ROUTES: list[Any] = [portal_consumption, portal_spot_prices]
