"""Everything one settlement needs, gathered from settlement's own tables, and settled.

Master data (portfolio's events), metering data (DataHub's RSM-012), spot prices (Energi Data
Service), charges and links (DataHub's RSM-034/031) and our product prices (portfolio's
events). Anything missing blocks the settlement with a reason; nothing is ever settled at 0.

One loader per input, used by both engines: :func:`master_data`, :func:`charges`,
:func:`spot`, :func:`products`, :func:`production_point`, :func:`elvarme_of` and the metering
data (:func:`consumption` as a Decimal series for :func:`load_inputs`, the same latest
versions as NumPy matrices for :func:`bulk_groups`); the SQL is in ``adapters/``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from wattline_platform.business_days import local_midnight

from wattline_settlement.adapters import charges as charge_store
from wattline_settlement.adapters import elvarme as elvarme_store
from wattline_settlement.adapters import metering_data, metering_points, runs, supply_periods
from wattline_settlement.adapters import prices as price_store
from wattline_settlement.domain import engine
from wattline_settlement.domain.billing import Item
from wattline_settlement.domain.bulk import BulkSettlement, settle_many
from wattline_settlement.domain.charge_rules import ChargeError, MissingPrices
from wattline_settlement.domain.model import (
    Charges,
    Elvarme,
    Period,
    Result,
    Scenario,
    Series,
)


class Blocked(Exception):
    """This settlement cannot be made yet; the message says why."""


@dataclass(frozen=True)
class ProductSpan:
    product_id: str
    version: int
    start: date
    end: date


@dataclass(frozen=True)
class MasterData:
    """What settling a metering point needs of its master data."""

    grid_area: str
    price_area: str


@dataclass(frozen=True)
class Inputs:
    grid_area: str
    price_area: str
    resolution: str
    data_id: int  # the newest metering-data row used
    products: tuple[ProductSpan, ...]


async def production_point(conn: asyncpg.Connection, gsrn: str, period: Period) -> str | None:
    """The solar production (E18) metering point settled with consumption point *gsrn*: the
    customer's one E18 point we supply in *period* (spec §5.5, per-interval net). Blocked when
    the pairing is ambiguous (several E17 or E18 points of the customer)."""
    rows = await supply_periods.customer_points(conn, gsrn, period)
    production = sorted(point for point, kind in rows if kind == "E18")
    if not production:
        return None
    consumption = [point for point, kind in rows if kind == "E17"]
    if len(production) > 1 or len(consumption) > 1:
        raise Blocked(
            f"{gsrn}: which production point nets against which consumption point is "
            f"ambiguous (E17 {sorted(consumption)}, E18 {production})"
        )
    return str(production[0])


async def elvarme_of(conn: asyncpg.Connection, gsrn: str, period: Period) -> Elvarme | None:
    """*gsrn*'s electric-heating counter at the start of *period* (or at the registration's
    date, when that is inside the period: it applies from then on), if it is registered:
    the registration's opening kWh (in its own year) plus what we settled in the year before
    the period."""
    row = await elvarme_store.registration(conn, gsrn, period.end)
    if row is None:
        return None
    year_start = period.start.replace(month=1, day=1)
    # The counter counts taxed kWh (the import, net of solar production: spec §5.5/§5.7),
    # which is the electricity tax line's quantity.
    settled = await runs.settled_tax_kwh(
        conn, gsrn, max(year_start, row["from_date"]), period.start
    )
    opening = row["opening_kwh"] if row["from_date"].year == period.start.year else Decimal(0)
    rates = await elvarme_store.reduced_tax_rates(conn)
    since = max(period.start, row["from_date"])
    if not rates or rates[0].valid_from > since:
        raise Blocked(f"{gsrn}: elvarme registered, but no reduced electricity tax rate in force")
    return Elvarme(
        from_date=row["from_date"] if row["from_date"] > period.start else None,
        threshold_kwh=Decimal(row["threshold_kwh"]),
        consumed_kwh_before_period=(opening + settled).quantize(Decimal("0.001")),
        reduced_electricity_tax=rates,
    )


async def master_data(conn: asyncpg.Connection, gsrns: Sequence[str]) -> dict[str, MasterData]:
    """The master data of those of *gsrns* that have it."""
    return {
        gsrn: MasterData(r["grid_area"], r["price_area"])
        for gsrn, r in (await metering_points.master_data(conn, gsrns)).items()
    }


async def charges(conn: asyncpg.Connection, gsrn: str, period: Period) -> Charges:
    """*gsrn*'s charges and supplier prices (a spot margin or a fixed price) over *period*
    (:class:`ChargeError` when they are missing or contradict each other)."""
    margin, subscription, fixed = await charge_store.supplier_prices(conn, gsrn, period)
    found = await charge_store.charges_for(conn, gsrn, period, margin, subscription)
    return replace(found, fixed_price=fixed)


async def spot(conn: asyncpg.Connection, price_area: str, period: Period) -> Series:
    """The price area's spot prices over *period* (:class:`MissingPrices` when some are)."""
    return await price_store.spot_series(conn, price_area, period)


async def products(conn: asyncpg.Connection, gsrn: str, period: Period) -> tuple[ProductSpan, ...]:
    """Our products (and their versions) *gsrn* was settled with in *period*."""
    return tuple(
        ProductSpan(str(r["product_id"]), r["product_version"], r["start_date"], r["end_date"])
        for r in await charge_store.products_used(conn, gsrn, period)
    )


async def load_inputs(
    conn: asyncpg.Connection, gsrn: str, period: Period, vat_rate: Decimal
) -> tuple[Inputs, Result]:
    """Gather *gsrn*'s inputs for *period* and settle it (Blocked when something is missing);
    a solar customer's production point is netted per interval."""
    mp = (await master_data(conn, [gsrn])).get(gsrn)
    if mp is None:
        raise Blocked(f"{gsrn}: no master data")
    consumption_, data_id = await consumption(conn, gsrn, period)
    production: Series | None = None
    solar = await production_point(conn, gsrn, period)
    if solar is not None:
        production, solar_id = await consumption(conn, solar, period)
        data_id = max(data_id, solar_id)
    try:
        charges_ = await charges(conn, gsrn, period)
    except ChargeError as exc:
        raise Blocked(f"{gsrn}: {exc}") from None
    spot_: Series | None = None
    if production is not None or engine.spot_needed(period, charges_):  # fixed: no spot
        try:
            spot_ = await spot(conn, mp.price_area, period)
        except MissingPrices as exc:
            raise Blocked(f"{gsrn}: {exc}") from None
    scenario = Scenario(
        period=period,
        vat_rate=vat_rate,
        consumption=consumption_,
        spot=spot_,
        charges=charges_,
        production=production,
        elvarme=await elvarme_of(conn, gsrn, period),
    )
    try:
        result = engine.settle(scenario)
    except engine.BadScenario as exc:
        raise Blocked(f"{gsrn}: {exc}") from None
    return (
        Inputs(
            mp.grid_area,
            mp.price_area,
            consumption_.resolution,
            data_id,
            await products(conn, gsrn, period),
        ),
        result,
    )


async def consumption(conn: asyncpg.Connection, gsrn: str, period: Period) -> tuple[Series, int]:
    """*gsrn*'s metering data over *period* (latest versions) as one series in kWh, and the
    newest row used; Blocked when a day or a value is missing or resolutions differ."""
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


@dataclass(frozen=True)
class BulkGroup:
    """Items settled as one matrix: row k of *bulk* is ``items[k]``, its newest metering-data
    row ``data_ids[k]``; *inputs* is every row's but for its ``data_id``."""

    items: list[Item]
    data_ids: list[int]
    inputs: Inputs
    bulk: BulkSettlement

    def inputs_of(self, row: int) -> Inputs:
        shared = self.inputs  # not dataclasses.replace: it is called for every row
        return Inputs(
            shared.grid_area,
            shared.price_area,
            shared.resolution,
            self.data_ids[row],
            shared.products,
        )


async def bulk_groups(
    conn: asyncpg.Connection, items: Sequence[Item], vat_rate: Decimal
) -> AsyncIterator[tuple[list[Item], BulkGroup | list[tuple[Item, Inputs, Result]] | str]]:
    """Settle *items* in groups that share every price: yields (items, group) per group
    settled as one matrix, (items, results) for those settled one by one and (items,
    reason) for items that cannot be settled yet."""
    gsrns = sorted({i.gsrn for i in items})
    mps = await master_data(conn, gsrns)
    links = await charge_store.links_of(conn, gsrns)
    contracts = await charge_store.contracts_of(conn, gsrns)
    one_by_one = await elvarme_store.registered(conn, gsrns)
    solar_customers = await supply_periods.customers_with_production(
        conn, sorted({i.customer_id for i in items})
    )
    groups: dict[tuple[Any, ...], list[Item]] = defaultdict(list)
    for item in items:
        mp = mps.get(item.gsrn)
        if mp is None:
            yield [item], f"{item.gsrn}: no master data"
            continue
        # Netted with production, or with an elvarme counter: one at a time.
        if item.customer_id in solar_customers or item.gsrn in one_by_one:
            try:
                inputs, result = await load_inputs(conn, item.gsrn, item.period, vat_rate)
            except Blocked as exc:
                yield [item], str(exc)
            else:
                yield [item], [(item, inputs, result)]
            continue
        groups[
            (
                item.period,
                mp.price_area,
                mp.grid_area,
                _clipped(
                    links[item.gsrn],
                    item.period,
                    ("owner_gln", "charge_type", "charge_id", "factor"),
                ),
                _clipped(contracts[item.gsrn], item.period, ("product_id", "product_version")),
                _fee_links(links[item.gsrn], item.period),
            )
        ].append(item)

    spots: dict[tuple[str, Period], Series] = {}
    for (period, price_area, grid_area, *_), group in groups.items():
        rep = group[0].gsrn
        try:
            charges_ = await charges(conn, rep, period)
            spot_ = None
            if engine.spot_needed(period, charges_):  # no production here: fixed needs no spot
                if (price_area, period) not in spots:
                    spots[price_area, period] = await spot(conn, price_area, period)
                spot_ = spots[price_area, period]
        except (MissingPrices, ChargeError) as exc:
            yield group, str(exc)
            continue
        used = await products(conn, rep, period)
        by_gsrn = {i.gsrn: i for i in group}
        settled: set[str] = set()
        matrices = await metering_data.bulk_latest(conn, list(by_gsrn), period.start, period.end)
        for resolution, series in matrices.items():
            complete = [
                row
                for row in range(len(series.gsrns))
                if bool(series.days_present[row].all()) and not bool(series.missing[row].any())
            ]
            if not complete:
                continue
            try:
                bulk = settle_many(
                    series.wh[complete],
                    period=period,
                    resolution=resolution,
                    spot=spot_,
                    charges=charges_,
                    vat_rate=vat_rate,
                )
            except engine.BadScenario as exc:
                yield [by_gsrn[series.gsrns[row]] for row in complete], str(exc)
                continue
            group_items = [by_gsrn[series.gsrns[row]] for row in complete]
            settled.update(i.gsrn for i in group_items)
            yield (
                group_items,
                BulkGroup(
                    group_items,
                    [int(series.max_id[row]) for row in complete],
                    Inputs(grid_area, price_area, resolution, 0, used),
                    bulk,
                ),
            )
        unsettled = [i for i in group if i.gsrn not in settled]
        if unsettled:
            yield (
                unsettled,
                f"metering data missing or incomplete for {period.start.isoformat()}.."
                f"{period.end.isoformat()}",
            )


def _clipped(
    rows: Sequence[asyncpg.Record], period: Period, keys: tuple[str, ...]
) -> tuple[tuple[Any, ...], ...]:
    """Rows overlapping *period* with their dates clipped to it: what prices depend on."""
    out = []
    for r in rows:
        start, end = (
            max(r["start_date"], period.start),
            min(r["end_date"] or period.end, period.end),
        )
        if start < end:
            out.append((*(r[k] for k in keys), start, end))
    return tuple(out)


def _fee_links(rows: Sequence[asyncpg.Record], period: Period) -> tuple[tuple[Any, ...], ...]:
    """The fee (D02) links overlapping *period* with their real dates: a fee is due on its
    link's start date, so a link from before the period and one from its first day, alike
    once clipped, bill differently."""
    return tuple(
        sorted(
            (
                r["owner_gln"],
                r["charge_id"],
                r["factor"],
                r["start_date"],
                r["end_date"] or date.max,
            )
            for r in rows
            if r["charge_type"] == "D02"
            and r["start_date"] < period.end
            and (r["end_date"] is None or r["end_date"] > period.start)
        )
    )
