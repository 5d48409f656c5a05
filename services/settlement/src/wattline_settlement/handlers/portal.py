"""The customer portal's reads: a customer's consumption beside last year's, and the spot
prices of their price areas. The customer is the identity's and nothing else."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from wattline_platform.business_days import local_midnight
from wattline_platform.db import Database

from wattline_settlement.adapters import metering_data, prices
from wattline_settlement.adapters import portal as store
from wattline_settlement.domain.consumption import (
    PORTAL_CODES,
    Consumption,
    consumption_document,
    supplied_on,
)


class NotTheirs(Exception):
    """A metering point that is not the customer's (or does not exist)."""


class NoMeteringPoints(Exception):
    """The customer has no metering points."""


async def supply_dates(db: Database, customer: str, gsrn: str) -> list[tuple[date, date | None]]:
    """The dates *customer* is supplied at *gsrn*; raises :class:`NotTheirs` when never."""
    async with db.connection() as conn:
        supplied = await store.supply_dates(conn, customer, gsrn)
    if not supplied:
        raise NotTheirs(gsrn)
    return supplied


async def consumption(
    db: Database,
    gsrn: str,
    resolution: str,
    start: date,
    end: date,
    supplied: list[tuple[date, date | None]],
) -> Consumption:
    """The consumption document of ``[start, end)`` at the portal's *resolution* (hour, day,
    month), of the days the customer was supplied there only."""
    async with db.connection() as conn:
        found = (await metering_data.latest_days(conn, [gsrn], start, end)).get(gsrn, {})
    # Only the days the customer was supplied there: a previous occupant's are not theirs.
    days = {d: v for d, v in found.items() if supplied_on(d, supplied)}
    return consumption_document(gsrn, start, end, PORTAL_CODES[resolution], days, "PT1H")


async def spot_prices(
    db: Database, customer: str, day: date
) -> dict[str, tuple[list[str], dict[datetime, Decimal]]]:
    """By price area of the customer's metering points (those supplied on *day*, else every
    one they had): their GSRNs and the area's spot prices of *day*. Raises
    :class:`NoMeteringPoints`."""
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    async with db.connection() as conn:
        areas = await store.price_areas(conn, customer, day)
        if not areas:
            raise NoMeteringPoints(customer)
        return {
            area: (gsrns, await prices.read_spot(conn, area, start, end))
            for area, gsrns in areas.items()
        }
