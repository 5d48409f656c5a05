"""SQL for products and their price versions."""

from __future__ import annotations

import asyncpg

from wattline_portfolio.domain.products import Prices, Product, ProductVersion


def _version(row: asyncpg.Record) -> ProductVersion:
    return ProductVersion(
        row["version"],
        row["valid_from"],
        Prices(
            row["price_type"],
            row["margin_dkk_per_kwh"],
            row["subscription_dkk_per_month"],
            row["fixed_price_dkk_per_kwh"],
        ),
    )


async def all_products(conn: asyncpg.Connection, *, only_active: bool = False) -> list[Product]:
    """Every product with its versions, in display order."""
    products = await conn.fetch(
        "SELECT * FROM product"
        + (" WHERE active" if only_active else "")
        + " ORDER BY display_order, name"
    )
    versions = await conn.fetch("SELECT * FROM product_version ORDER BY product_id, version")
    by_product: dict[str, list[ProductVersion]] = {}
    for row in versions:
        by_product.setdefault(str(row["product_id"]), []).append(_version(row))
    return [
        Product(
            str(p["product_id"]),
            p["name"],
            p["description"],
            p["green_energy"],
            p["display_order"],
            p["active"],
            tuple(by_product.get(str(p["product_id"]), ())),
        )
        for p in products
    ]


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
    return Product(
        str(row["product_id"]),
        row["name"],
        row["description"],
        row["green_energy"],
        row["display_order"],
        row["active"],
        tuple(_version(v) for v in versions),
    )


async def insert(conn: asyncpg.Connection, product: Product) -> None:
    await conn.execute(
        """INSERT INTO product (product_id, name, description, green_energy, display_order,
               active) VALUES ($1::uuid, $2, $3, $4, $5, $6)""",
        product.product_id,
        product.name,
        product.description,
        product.green_energy,
        product.display_order,
        product.active,
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


async def update_presentation(
    conn: asyncpg.Connection,
    product_id: str,
    *,
    description: str | None,
    green_energy: bool | None,
    display_order: int | None,
    active: bool | None,
) -> bool:
    status = await conn.execute(
        """UPDATE product SET description = coalesce($2, description),
               green_energy = coalesce($3, green_energy),
               display_order = coalesce($4, display_order), active = coalesce($5, active)
           WHERE product_id = $1::uuid""",
        product_id,
        description,
        green_energy,
        display_order,
        active,
    )
    return bool(status.endswith(" 1"))


async def lock_catalogue(conn: asyncpg.Connection) -> None:
    """Serialise, until the transaction ends, the creation of the default catalogue."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('portfolio.default_products'))")


async def any_product(conn: asyncpg.Connection) -> bool:
    """Whether there is a product at all."""
    return bool(await conn.fetchval("SELECT count(*) FROM product"))
