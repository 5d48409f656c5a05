"""SQL for products and their price versions."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from wattline_portfolio.domain.products import (
    ChannelVersion,
    MarginCorridor,
    Prices,
    Product,
    ProductVersion,
)


def _prices(row: asyncpg.Record) -> Prices:
    return Prices(
        row["price_type"],
        row["margin_dkk_per_kwh"],
        row["subscription_dkk_per_month"],
        row["fixed_price_dkk_per_kwh"],
    )


def _version(row: asyncpg.Record) -> ProductVersion:
    return ProductVersion(row["version"], row["valid_from"], _prices(row))


def _channel_version(row: asyncpg.Record) -> ChannelVersion:
    return ChannelVersion(
        row["version"],
        row["channel"],
        str(row["campaign_id"]),
        row["valid_from"],
        row["valid_to"],
        _prices(row),
    )


def _product(row: asyncpg.Record, versions: list[asyncpg.Record]) -> Product:
    return Product(
        str(row["product_id"]),
        row["name"],
        row["description"],
        row["green_energy"],
        row["display_order"],
        row["active"],
        tuple(_version(v) for v in versions if v["channel"] is None),
        MarginCorridor(row["min_margin_dkk_per_kwh"], row["max_margin_dkk_per_kwh"]),
        tuple(_channel_version(v) for v in versions if v["channel"] is not None),
    )


async def all_products(conn: asyncpg.Connection, *, only_active: bool = False) -> list[Product]:
    """Every product with its versions, in display order."""
    products = await conn.fetch(
        "SELECT * FROM product"
        + (" WHERE active" if only_active else "")
        + " ORDER BY display_order, name"
    )
    versions = await conn.fetch("SELECT * FROM product_version ORDER BY product_id, version")
    by_product: dict[str, list[asyncpg.Record]] = {}
    for row in versions:
        by_product.setdefault(str(row["product_id"]), []).append(row)
    return [_product(p, by_product.get(str(p["product_id"]), [])) for p in products]


async def get(
    conn: asyncpg.Connection, product_id: str, *, for_update: bool = False
) -> Product | None:
    row = await conn.fetchrow(
        "SELECT * FROM product WHERE product_id = $1::uuid" + (" FOR UPDATE" if for_update else ""),
        product_id,
    )
    if row is None:
        return None
    versions = await conn.fetch(
        "SELECT * FROM product_version WHERE product_id = $1::uuid ORDER BY version", product_id
    )
    return _product(row, versions)


async def insert(conn: asyncpg.Connection, product: Product) -> None:
    await conn.execute(
        """INSERT INTO product (product_id, name, description, green_energy, display_order,
               active, min_margin_dkk_per_kwh, max_margin_dkk_per_kwh)
           VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)""",
        product.product_id,
        product.name,
        product.description,
        product.green_energy,
        product.display_order,
        product.active,
        product.corridor.minimum,
        product.corridor.maximum,
    )
    for version in product.versions:
        await insert_version(conn, product.product_id, version)


async def insert_version(conn: asyncpg.Connection, product_id: str, v: ProductVersion) -> None:
    await conn.execute(
        """INSERT INTO product_version (product_id, version, valid_from, price_type,
               margin_dkk_per_kwh, fixed_price_dkk_per_kwh, subscription_dkk_per_month)
           VALUES ($1::uuid, $2, $3, $4, $5, $6, $7)""",
        product_id,
        v.version,
        v.valid_from,
        v.prices.price_type,
        v.prices.margin_dkk_per_kwh,
        v.prices.fixed_price_dkk_per_kwh,
        v.prices.subscription_dkk_per_month,
    )


async def insert_channel_versions(
    conn: asyncpg.Connection, product_id: str, versions: tuple[ChannelVersion, ...]
) -> None:
    """A campaign's rows: new versions, never an update of an old one (a trigger refuses)."""
    await conn.executemany(
        """INSERT INTO product_version (product_id, version, valid_from, price_type,
               margin_dkk_per_kwh, fixed_price_dkk_per_kwh, subscription_dkk_per_month,
               channel, campaign_id, valid_to)
           VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9::uuid, $10)""",
        [
            (
                product_id,
                v.version,
                v.valid_from,
                v.prices.price_type,
                v.prices.margin_dkk_per_kwh,
                v.prices.fixed_price_dkk_per_kwh,
                v.prices.subscription_dkk_per_month,
                v.channel,
                v.campaign_id,
                v.valid_to,
            )
            for v in versions
        ],
    )


async def update_presentation(
    conn: asyncpg.Connection,
    product_id: str,
    *,
    description: str | None,
    green_energy: bool | None,
    display_order: int | None,
    active: bool | None,
    min_margin_dkk_per_kwh: Decimal | None = None,
    max_margin_dkk_per_kwh: Decimal | None = None,
) -> bool:
    status = await conn.execute(
        """UPDATE product SET description = coalesce($2, description),
               green_energy = coalesce($3, green_energy),
               display_order = coalesce($4, display_order), active = coalesce($5, active),
               min_margin_dkk_per_kwh = coalesce($6, min_margin_dkk_per_kwh),
               max_margin_dkk_per_kwh = coalesce($7, max_margin_dkk_per_kwh)
           WHERE product_id = $1::uuid""",
        product_id,
        description,
        green_energy,
        display_order,
        active,
        min_margin_dkk_per_kwh,
        max_margin_dkk_per_kwh,
    )
    return bool(status.endswith(" 1"))


async def lock_catalogue(conn: asyncpg.Connection) -> None:
    """Serialise, until the transaction ends, the creation of the default catalogue."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('portfolio.default_products'))")


async def any_product(conn: asyncpg.Connection) -> bool:
    """Whether there is a product at all."""
    return bool(await conn.fetchval("SELECT count(*) FROM product"))


async def name_of(conn: asyncpg.Connection, product_id: str) -> str:
    """A product's name (its id when there is no such product)."""
    found = await conn.fetchval("SELECT name FROM product WHERE product_id = $1::uuid", product_id)
    return str(found) if found is not None else product_id
