"""SQL for charges (DataHub's RSM-034 prices and RSM-031 links) and our own supplier prices
(portfolio's products, contracts and supply periods), and the reads the engine needs.

The rules (which charge is which line, how series become versions, how contracts become
supplier prices) are in :mod:`wattline_settlement.domain.charge_rules`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from wattline_contracts.datahub import ChargeLinkReceivedV1, ChargeReceivedV1
from wattline_contracts.portfolio import (
    ContractChangedV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
)
from wattline_platform.business_days import danish_today

from wattline_settlement.domain import charge_rules
from wattline_settlement.domain.charge_rules import (
    ChargeInfo,
    ChargeKey,
    ChargeLinkSpan,
    ChargePrice,
    ContractTerms,
)
from wattline_settlement.domain.model import Charges, Period, PriceVersion

__all__ = [
    "SupplyPeriodPart",
    "apply_charge",
    "apply_charge_link",
    "apply_contract",
    "apply_product_version",
    "apply_supply_period",
    "charges_for",
    "contracts_of",
    "links_of",
    "products_used",
    "supplier_prices",
    "supply_periods",
]


def _day(instant: datetime | None) -> date | None:
    return None if instant is None else danish_today(instant)


# --- DataHub: charges and their prices ------------------------------------------------------


async def apply_charge(
    conn: asyncpg.Connection, event: ChargeReceivedV1, event_id: uuid.UUID
) -> int:
    """Store a charge's master data (D18: replaced in full; otherwise only what is given)
    and each price series as versions from its first day; return the versions written."""
    key = (event.owner_gln, event.charge_type, event.charge_id)
    master = (
        event.name,
        event.description,
        event.resolution,
        _day(event.effective_date),
        _day(event.termination_date),
        event.vat_payer,
        event.transparent_invoicing,
        event.tax_indicator,
    )
    if event.process_type == "D18":
        update = """name = EXCLUDED.name, description = EXCLUDED.description,
               resolution = EXCLUDED.resolution, effective_date = EXCLUDED.effective_date,
               termination_date = EXCLUDED.termination_date, vat_payer = EXCLUDED.vat_payer,
               transparent_invoicing = EXCLUDED.transparent_invoicing,
               tax_indicator = EXCLUDED.tax_indicator"""
    else:
        update = ", ".join(
            f"{c} = coalesce(EXCLUDED.{c}, charges.{c})"
            for c in (
                "name",
                "description",
                "resolution",
                "effective_date",
                "termination_date",
                "vat_payer",
                "transparent_invoicing",
                "tax_indicator",
            )
        )
    await conn.execute(
        f"""INSERT INTO charges (owner_gln, charge_type, charge_id, name, description,
                   resolution, effective_date, termination_date, vat_payer,
                   transparent_invoicing, tax_indicator)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (owner_gln, charge_type, charge_id) DO UPDATE
               SET {update}, updated_at = now()""",
        *key,
        *master,
    )
    written = 0
    for ordinal, series in enumerate(event.price_series):
        await conn.execute(
            """INSERT INTO charge_price_series (event_id, ordinal, owner_gln, charge_type,
                   charge_id, resolution, start_utc, end_utc, prices)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (event_id, ordinal) DO NOTHING""",
            event_id,
            ordinal,
            *key,
            series.resolution,
            series.start,
            series.end,
            list(series.prices),
        )
        first, after, versions = charge_rules.prices_from_series(
            series.resolution, series.start, series.end, series.prices
        )
        await conn.execute(
            """DELETE FROM charge_prices WHERE owner_gln = $1 AND charge_type = $2
               AND charge_id = $3 AND valid_from >= $4 AND valid_from < $5""",
            *key,
            first,
            after,
        )
        await conn.executemany(
            """INSERT INTO charge_prices (owner_gln, charge_type, charge_id, valid_from,
                   hourly, flat, resolution, event_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            [
                (
                    *key,
                    v.valid_from,
                    None if v.hourly is None else list(v.hourly),
                    v.flat,
                    series.resolution,
                    event_id,
                )
                for v in versions
            ],
        )
        written += len(versions)
    return written


async def apply_charge_link(
    conn: asyncpg.Connection, event: ChargeLinkReceivedV1, event_id: uuid.UUID
) -> None:
    """Store a metering point's link to a charge (upsert by charge and start date)."""
    start = danish_today(event.start)
    end = None if event.end is None else max(charge_rules.first_day_after(event.end), start)
    await conn.execute(
        """INSERT INTO charge_links (gsrn, owner_gln, charge_type, charge_id, start_date,
               end_date, factor, transaction_id, datahub_message_id, event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (gsrn, owner_gln, charge_type, charge_id, start_date) DO UPDATE
           SET end_date = EXCLUDED.end_date, factor = EXCLUDED.factor,
               transaction_id = EXCLUDED.transaction_id,
               datahub_message_id = EXCLUDED.datahub_message_id,
               event_id = EXCLUDED.event_id, updated_at = now()""",
        event.gsrn,
        event.owner_gln,
        event.charge_type,
        event.charge_id,
        start,
        end,
        event.factor,
        event.transaction_id,
        event.datahub_message_id,
        event_id,
    )


async def charges_for(
    conn: asyncpg.Connection,
    gsrn: str,
    period: Period,
    supplier_margin: tuple[PriceVersion, ...],
    supplier_subscription: tuple[PriceVersion, ...],
) -> Charges:
    """The engine's charges of *gsrn* over *period* (local dates, end exclusive), from the
    charges linked to it; raises :class:`MissingCharges` naming what is missing."""
    rows = await conn.fetch(
        """SELECT owner_gln, charge_type, charge_id, start_date, end_date, factor
           FROM charge_links
           WHERE gsrn = $1 AND start_date < $3 AND (end_date IS NULL OR end_date > $2)
             AND (end_date IS NULL OR end_date > start_date)""",
        gsrn,
        period.start,
        period.end,
    )
    links = [
        ChargeLinkSpan(
            ChargeKey(r["owner_gln"], r["charge_type"], r["charge_id"]),
            r["start_date"],
            r["end_date"],
            r["factor"],
        )
        for r in rows
    ]
    keys = sorted({link.key for link in links}, key=str)
    owners = [k.owner_gln for k in keys]
    types = [k.charge_type for k in keys]
    ids = [k.charge_id for k in keys]
    info_rows = await conn.fetch(
        """SELECT c.owner_gln, c.charge_type, c.charge_id, c.tax_indicator, c.termination_date
           FROM charges c
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(owner_gln, charge_type, charge_id)
             USING (owner_gln, charge_type, charge_id)""",
        owners,
        types,
        ids,
    )
    infos = {
        key: ChargeInfo(key, r["tax_indicator"], r["termination_date"])
        for r in info_rows
        for key in [ChargeKey(r["owner_gln"], r["charge_type"], r["charge_id"])]
    }
    price_rows = await conn.fetch(
        """SELECT p.owner_gln, p.charge_type, p.charge_id, p.valid_from, p.hourly, p.flat
           FROM charge_prices p
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(owner_gln, charge_type, charge_id)
             USING (owner_gln, charge_type, charge_id)
           WHERE p.valid_from < $4
           ORDER BY p.valid_from""",
        owners,
        types,
        ids,
        period.end,
    )
    prices: dict[ChargeKey, list[ChargePrice]] = {}
    for r in price_rows:
        key = ChargeKey(r["owner_gln"], r["charge_type"], r["charge_id"])
        hourly = None if r["hourly"] is None else tuple(r["hourly"])
        prices.setdefault(key, []).append(ChargePrice(r["valid_from"], hourly, r["flat"]))
    return charge_rules.combine_charges(
        period, links, infos, prices, supplier_margin, supplier_subscription
    )


# --- portfolio: products, contracts, supply periods ---------------------------------------


async def apply_product_version(
    conn: asyncpg.Connection, event: ProductVersionPublishedV1, event_id: uuid.UUID
) -> None:
    """Store a product version's prices (upsert by product and version)."""
    await conn.execute(
        """INSERT INTO products (product_id, name, latest_version) VALUES ($1, $2, $3)
           ON CONFLICT (product_id) DO UPDATE
           SET name = CASE WHEN EXCLUDED.latest_version >= products.latest_version
                           THEN EXCLUDED.name ELSE products.name END,
               latest_version = greatest(products.latest_version, EXCLUDED.latest_version),
               updated_at = now()""",
        event.product_id,
        event.name,
        event.version,
    )
    await conn.execute(
        """INSERT INTO product_versions (product_id, version, name, price_type,
               margin_dkk_per_kwh, fixed_price_dkk_per_kwh, subscription_dkk_per_month,
               green_energy, valid_from, event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (product_id, version) DO UPDATE
           SET name = EXCLUDED.name, price_type = EXCLUDED.price_type,
               margin_dkk_per_kwh = EXCLUDED.margin_dkk_per_kwh,
               fixed_price_dkk_per_kwh = EXCLUDED.fixed_price_dkk_per_kwh,
               subscription_dkk_per_month = EXCLUDED.subscription_dkk_per_month,
               green_energy = EXCLUDED.green_energy, valid_from = EXCLUDED.valid_from,
               event_id = EXCLUDED.event_id, updated_at = now()""",
        event.product_id,
        event.version,
        event.name,
        event.price_type,
        event.margin_dkk_per_kwh,
        event.fixed_price_dkk_per_kwh,
        event.subscription_dkk_per_month,
        event.green_energy,
        event.valid_from,
        event_id,
    )


async def apply_contract(
    conn: asyncpg.Connection, event: ContractChangedV1, event_id: uuid.UUID, as_of: datetime
) -> None:
    """Store a contract's current state, unless a newer state is already stored."""
    await conn.execute(
        """INSERT INTO contracts (contract_id, gsrn, customer_id, payer_id, product_id,
               product_version, start_date, end_date, billing_frequency, payment_model,
               event_id, as_of)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (contract_id) DO UPDATE
           SET gsrn = EXCLUDED.gsrn, customer_id = EXCLUDED.customer_id,
               payer_id = EXCLUDED.payer_id, product_id = EXCLUDED.product_id,
               product_version = EXCLUDED.product_version, start_date = EXCLUDED.start_date,
               end_date = EXCLUDED.end_date, billing_frequency = EXCLUDED.billing_frequency,
               payment_model = EXCLUDED.payment_model, event_id = EXCLUDED.event_id,
               as_of = EXCLUDED.as_of, updated_at = now()
           WHERE contracts.as_of <= EXCLUDED.as_of""",
        event.contract_id,
        event.gsrn,
        event.customer_id,
        event.payer_id,
        event.product_id,
        event.product_version,
        event.start_date,
        event.end_date,
        event.billing_frequency,
        event.payment_model,
        event_id,
        as_of,
    )


async def apply_supply_period(
    conn: asyncpg.Connection, event: SupplyPeriodChangedV1, event_id: uuid.UUID, as_of: datetime
) -> None:
    """Store a supply period's current state, unless a newer state is already stored."""
    await conn.execute(
        """INSERT INTO supply_periods (supply_period_id, gsrn, customer_id, start_date,
               end_date, reason, process_id, event_id, as_of)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (supply_period_id) DO UPDATE
           SET gsrn = EXCLUDED.gsrn, customer_id = EXCLUDED.customer_id,
               start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
               reason = EXCLUDED.reason, process_id = EXCLUDED.process_id,
               event_id = EXCLUDED.event_id, as_of = EXCLUDED.as_of, updated_at = now()
           WHERE supply_periods.as_of <= EXCLUDED.as_of""",
        uuid.UUID(event.supply_period_id),
        event.gsrn,
        event.customer_id,
        event.start_date,
        event.end_date,
        event.reason,
        event.process_id,
        event_id,
        as_of,
    )


async def supplier_prices(
    conn: asyncpg.Connection, gsrn: str, period: Period
) -> tuple[tuple[PriceVersion, ...], tuple[PriceVersion, ...], tuple[PriceVersion, ...]]:
    """``(margin, subscription, fixed-price versions)`` of *gsrn* over *period* from the contracts
    overlapping it, each at the product version it pins; see
    :func:`charge_rules.supplier_versions` for what raises."""
    rows = await conn.fetch(
        """SELECT c.contract_id, c.product_id, c.product_version, c.start_date, c.end_date,
                  v.price_type, v.margin_dkk_per_kwh, v.fixed_price_dkk_per_kwh,
                  v.subscription_dkk_per_month
           FROM contracts c
           LEFT JOIN product_versions v
             ON v.product_id = c.product_id AND v.version = c.product_version
           WHERE c.gsrn = $1 AND c.start_date < $3 AND coalesce(c.end_date, $3) > $2
             AND (c.end_date IS NULL OR c.end_date > c.start_date)
           ORDER BY c.start_date""",
        gsrn,
        period.start,
        period.end,
    )
    return charge_rules.supplier_versions(
        period,
        [
            ContractTerms(
                r["contract_id"],
                r["product_id"],
                r["product_version"],
                r["start_date"],
                r["end_date"],
                r["price_type"],
                r["margin_dkk_per_kwh"],
                r["fixed_price_dkk_per_kwh"],
                r["subscription_dkk_per_month"],
            )
            for r in rows
        ],
    )


async def products_used(
    conn: asyncpg.Connection, gsrn: str, period: Period
) -> list[asyncpg.Record]:
    """The product versions of *gsrn*'s contracts in *period*, clipped to it:
    ``product_id, product_version, start_date, end_date`` in time order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT product_id, product_version,
                  greatest(start_date, $2) AS start_date,
                  least(coalesce(end_date, $3), $3) AS end_date
           FROM contracts
           WHERE gsrn = $1 AND start_date < $3 AND coalesce(end_date, $3) > $2
             AND (end_date IS NULL OR end_date > start_date)
           ORDER BY start_date""",
        gsrn,
        period.start,
        period.end,
    )
    return rows


@dataclass(frozen=True)
class SupplyPeriodPart:
    """The part of one of our supply periods inside a period (``period``, clipped)."""

    supply_period_id: str
    gsrn: str
    customer_id: str
    period: Period
    start_date: date  # the supply period's own dates
    end_date: date | None
    reason: str


async def supply_periods(
    conn: asyncpg.Connection, gsrn: str | None, period: Period
) -> list[SupplyPeriodPart]:
    """Our supply periods (of *gsrn*, or all) overlapping *period*, clipped to it, in order
    of metering point and start; rolled-back periods (never ours) are left out."""
    rows = await conn.fetch(
        """SELECT supply_period_id, gsrn, customer_id, start_date, end_date, reason,
                  greatest(start_date, $2) AS clip_start,
                  least(coalesce(end_date, $3), $3) AS clip_end
           FROM supply_periods
           WHERE ($1::text IS NULL OR gsrn = $1) AND reason <> 'rolled_back'
             AND start_date < $3 AND coalesce(end_date, $3) > $2
           ORDER BY gsrn, start_date""",
        gsrn,
        period.start,
        period.end,
    )
    return [
        SupplyPeriodPart(
            str(r["supply_period_id"]),
            r["gsrn"],
            r["customer_id"],
            Period(r["clip_start"], r["clip_end"]),
            r["start_date"],
            r["end_date"],
            r["reason"],
        )
        for r in rows
        if r["clip_start"] < r["clip_end"]
    ]


async def links_of(
    conn: asyncpg.Connection, gsrns: Sequence[str]
) -> dict[str, list[asyncpg.Record]]:
    """By GSRN, its charge links in order of charge and start (what its prices depend on)."""
    links: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for r in await conn.fetch(
        """SELECT gsrn, owner_gln, charge_type, charge_id, start_date, end_date, factor
           FROM charge_links WHERE gsrn = ANY($1)
           ORDER BY gsrn, owner_gln, charge_type, charge_id, start_date""",
        list(gsrns),
    ):
        links[r["gsrn"]].append(r)
    return links


async def contracts_of(
    conn: asyncpg.Connection, gsrns: Sequence[str]
) -> dict[str, list[asyncpg.Record]]:
    """By GSRN, its contracts (product and version) in order of start."""
    contracts: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for r in await conn.fetch(
        """SELECT gsrn, product_id::text AS product_id, product_version, start_date, end_date
           FROM contracts WHERE gsrn = ANY($1) ORDER BY gsrn, start_date""",
        list(gsrns),
    ):
        contracts[r["gsrn"]].append(r)
    return contracts
