"""Products: create one, publish a new price version, edit its presentation, and the default
catalogue a fresh installation starts with."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
from wattline_contracts.portfolio import ProductVersionPublishedV1

from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.domain.products import (
    InvalidProduct,
    MarginCorridor,
    OutsideCorridor,
    Prices,
    Product,
    ProductVersion,
    next_version,
)
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.errors import (
    InvalidPrices,
    InvalidPriceVersion,
    OutsideMarginCorridor,
    ProductExists,
    ProductNotFound,
)
from wattline_portfolio.models import PricesIn, ProductIn, ProductPatch


def outside_corridor(exc: OutsideCorridor) -> OutsideMarginCorridor:
    """The refusal of a row outside the corridor, naming the limit."""
    return OutsideMarginCorridor(
        str(exc), margin=str(exc.margin), bound=exc.bound, limit=str(exc.limit)
    )


def version_event(product: Product, version: ProductVersion) -> ProductVersionPublishedV1:
    return ProductVersionPublishedV1(
        product_id=product.product_id,
        version=version.version,
        name=product.name,
        price_type=version.prices.price_type,
        margin_dkk_per_kwh=version.prices.margin_dkk_per_kwh,
        fixed_price_dkk_per_kwh=version.prices.fixed_price_dkk_per_kwh,
        subscription_dkk_per_month=version.prices.subscription_dkk_per_month,
        green_energy=product.green_energy,
        valid_from=version.valid_from,
    )


async def create_product(p: Portfolio, body: ProductIn, product_id: str | None = None) -> Product:
    """A new product with its first price version; published for settlement and invoicing."""
    try:
        prices = Prices(
            body.price_type,
            body.margin_dkk_per_kwh,
            body.subscription_dkk_per_month,
            body.fixed_price_dkk_per_kwh,
        )
        corridor = MarginCorridor(body.min_margin_dkk_per_kwh, body.max_margin_dkk_per_kwh)
        corridor.check(prices.margin_dkk_per_kwh)
    except OutsideCorridor as exc:
        raise outside_corridor(exc) from None
    except InvalidProduct as exc:
        raise InvalidPrices(str(exc)) from None
    product = Product(
        product_id or str(uuid.uuid4()),
        body.name,
        body.description,
        body.green_energy,
        body.display_order,
        True,
        (ProductVersion(1, body.valid_from, prices),),
        corridor,
    )
    try:
        async with p.service.database.transaction() as tx:
            await product_store.insert(tx, product)
            await p.emit(tx, version_event(product, product.versions[0]), product.product_id)
    except asyncpg.UniqueViolationError:
        raise ProductExists(body.name) from None
    return product


async def add_product_version(p: Portfolio, product_id: str, prices_in: PricesIn) -> ProductVersion:
    """A price change from a date: a new version; existing contracts keep theirs."""
    today = await p.today()
    async with p.service.database.transaction() as tx:
        product = await product_store.get(tx, product_id, for_update=True)
        if product is None:
            raise ProductNotFound(product_id)
        try:
            prices = Prices(
                prices_in.price_type,
                prices_in.margin_dkk_per_kwh,
                prices_in.subscription_dkk_per_month,
                prices_in.fixed_price_dkk_per_kwh,
            )
            product.corridor.check(prices.margin_dkk_per_kwh)
            # One numbering for base and channel versions (a contract names one row).
            number = max(
                next_version(product.versions, prices_in.valid_from, today),
                product.next_number(),
            )
        except OutsideCorridor as exc:
            raise outside_corridor(exc) from None
        except InvalidProduct as exc:
            raise InvalidPriceVersion(str(exc)) from None
        version = ProductVersion(number, prices_in.valid_from, prices)
        await product_store.insert_version(tx, product_id, version)
        await p.emit(tx, version_event(product, version), product_id)
    return version


async def edit_product(p: Portfolio, product_id: str, patch: ProductPatch) -> Product | None:
    """Change a product's description, order, green flag, active flag or margin corridor
    (None: no such product). A corridor applies to rows published from now on."""
    async with p.service.database.transaction() as tx:
        product = await product_store.get(tx, product_id, for_update=True)
        if product is None:
            return None
        try:
            MarginCorridor(
                product.corridor.minimum
                if patch.min_margin_dkk_per_kwh is None
                else patch.min_margin_dkk_per_kwh,
                product.corridor.maximum
                if patch.max_margin_dkk_per_kwh is None
                else patch.max_margin_dkk_per_kwh,
            )
        except InvalidProduct as exc:
            raise InvalidPrices(str(exc)) from None
        await product_store.update_presentation(tx, product_id, **patch.model_dump())
        return await product_store.get(tx, product_id)


DEFAULT_CATALOGUE = (
    ("Spot", "Timepris: spotpris + vores tillæg. Ingen binding.", False, 10,
     "spot", "0.040000", "39.00", None),
    ("Spot Grøn", "Timepris med oprindelsesgarantier fra dansk vind og sol. Ingen binding.",
     True, 20, "spot", "0.060000", "39.00", None),
    ("Fastpris", "Samme pris på el hver time. Ingen binding.", False, 30,
     "fixed", "0", "29.00", "1.100000"),
)  # fmt: skip


async def ensure_default_products(p: Portfolio) -> int:
    """Create the default catalogue when there are no products (once, under a lock)."""
    if not p.settings.default_products:
        return 0
    async with p.service.database.transaction() as tx:
        await product_store.lock_catalogue(tx)
        if await product_store.any_product(tx):
            return 0
        today = await p.today()
        for name, text, green, order, kind, margin, subscription, fixed in DEFAULT_CATALOGUE:
            product = Product(
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"wattline:product:{name}")),
                name,
                text,
                green,
                order,
                True,
                (
                    ProductVersion(
                        1,
                        date(today.year, 1, 1) - timedelta(days=366 * 2),
                        Prices(
                            kind,  # type: ignore[arg-type]
                            Decimal(margin),
                            Decimal(subscription),
                            None if fixed is None else Decimal(fixed),
                        ),
                    ),
                ),
            )
            await product_store.insert(tx, product)
            await p.emit(tx, version_event(product, product.versions[0]), product.product_id)
    return len(DEFAULT_CATALOGUE)
