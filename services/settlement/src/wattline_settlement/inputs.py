"""Everything one settlement needs, gathered from settlement's own tables, and settled.

Master data (portfolio's events), metering data (DataHub's RSM-012), spot prices (Energi Data
Service), charges and links (DataHub's RSM-034/031) and our product prices (portfolio's
events). Anything missing blocks the settlement with a reason; nothing is ever settled at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg

from wattline_settlement.adapters import charges as charge_store
from wattline_settlement.adapters import metering_data
from wattline_settlement.adapters import prices as price_store
from wattline_settlement.domain import engine
from wattline_settlement.domain.model import Period, Result, Scenario, Series

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class Blocked(Exception):
    """This settlement cannot be made yet; the message says why."""


@dataclass(frozen=True)
class ProductSpan:
    product_id: str
    version: int
    start: date
    end: date


@dataclass(frozen=True)
class Inputs:
    grid_area: str
    price_area: str
    resolution: str
    data_id: int  # the newest metering-data row used
    products: tuple[ProductSpan, ...]


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=COPENHAGEN).astimezone(UTC)


async def load_inputs(
    conn: asyncpg.Connection, gsrn: str, period: Period, vat_rate: Decimal
) -> tuple[Inputs, Result]:
    """Gather *gsrn*'s inputs for *period* and settle it (Blocked when something is missing)."""
    mp = await conn.fetchrow("SELECT * FROM metering_points WHERE gsrn = $1", gsrn)
    if mp is None:
        raise Blocked(f"{gsrn}: no master data")
    consumption, data_id = await _consumption(conn, gsrn, period)
    try:
        spot = await price_store.spot_series(conn, mp["price_area"], period)
    except price_store.MissingPrices as exc:
        raise Blocked(f"{gsrn}: {exc}") from None
    try:
        margin, subscription = await charge_store.supplier_prices(conn, gsrn, period)
        charges = await charge_store.charges_for(conn, gsrn, period, margin, subscription)
    except (charge_store.MissingCharges, charge_store.UnsupportedProduct) as exc:
        raise Blocked(f"{gsrn}: {exc}") from None
    scenario = Scenario(
        period=period,
        vat_rate=vat_rate,
        consumption=consumption,
        spot=spot,
        charges=charges,
    )
    result = engine.settle(scenario)
    products = tuple(
        ProductSpan(r["product_id"], r["product_version"], r["start_date"], r["end_date"])
        for r in await charge_store.products_used(conn, gsrn, period)
    )
    return (
        Inputs(mp["grid_area"], mp["price_area"], consumption.resolution, data_id, products),
        result,
    )


async def _consumption(conn: asyncpg.Connection, gsrn: str, period: Period) -> tuple[Series, int]:
    days = (await metering_data.latest_days(conn, [gsrn], period.start, period.end)).get(gsrn, {})
    values: list[Decimal] = []
    resolutions = set()
    missing: list[date] = []
    data_id = 0
    day = period.start
    while day < period.end:
        found = days.get(day)
        if found is None or any(v is None for v in found.wh):
            missing.append(day)
        else:
            resolutions.add(found.resolution)
            values.extend(Decimal(v).scaleb(-3) for v in found.wh if v is not None)
            data_id = max(data_id, found.id)
        day += timedelta(days=1)
    if missing:
        raise Blocked(
            f"{gsrn}: metering data missing for {len(missing)} day(s) from {missing[0].isoformat()}"
        )
    if len(resolutions) != 1:
        raise Blocked(f"{gsrn}: metering data in several resolutions {sorted(resolutions)}")
    resolution = resolutions.pop()
    return Series(resolution, local_midnight(period.start), tuple(values)), data_id
