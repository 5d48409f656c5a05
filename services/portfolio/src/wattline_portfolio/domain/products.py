"""Products: what a customer signs (our margin and subscription; spot or fixed price).

Grid tariffs and taxes are pass-through costs, the same with every supplier, so a product is
only our own price. Prices are versioned: a change is a new version from a Danish local date,
and a contract keeps the version it signed until the contract is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

PriceType = Literal["spot", "fixed"]


class InvalidProduct(ValueError):
    """A product or price version that breaks a rule."""


@dataclass(frozen=True)
class Prices:
    """One version's prices, DKK excl. VAT."""

    price_type: PriceType
    margin_dkk_per_kwh: Decimal
    subscription_dkk_per_month: Decimal
    fixed_price_dkk_per_kwh: Decimal | None = None

    def __post_init__(self) -> None:
        if self.subscription_dkk_per_month < 0:
            raise InvalidProduct("subscription_dkk_per_month must not be negative")
        if self.price_type == "fixed" and (
            self.fixed_price_dkk_per_kwh is None or self.fixed_price_dkk_per_kwh <= 0
        ):
            raise InvalidProduct("a fixed-price product needs fixed_price_dkk_per_kwh > 0")
        if self.price_type == "spot" and self.fixed_price_dkk_per_kwh is not None:
            raise InvalidProduct("a spot product has no fixed_price_dkk_per_kwh")
        for name in ("margin_dkk_per_kwh", "subscription_dkk_per_month"):
            if getattr(self, name).as_tuple().exponent < -6:
                raise InvalidProduct(f"{name} has more than 6 decimals")


@dataclass(frozen=True)
class ProductVersion:
    """Prices of a product from ``valid_from`` until the next version's ``valid_from``."""

    version: int
    valid_from: date
    prices: Prices


def version_on(versions: Sequence[ProductVersion], day: date) -> ProductVersion | None:
    """The version in force on *day* (the latest starting on or before it), or None."""
    current = [v for v in versions if v.valid_from <= day]
    return max(current, key=lambda v: v.valid_from) if current else None


def next_version(versions: Sequence[ProductVersion], valid_from: date, today: date) -> int:
    """The number of a new version from *valid_from*; a price change is never retroactive and
    always after every existing version."""
    if valid_from < today:
        raise InvalidProduct(f"valid_from {valid_from} is in the past (today is {today})")
    latest = max(versions, key=lambda v: v.valid_from, default=None)
    if latest is not None and valid_from <= latest.valid_from:
        raise InvalidProduct(
            f"valid_from must be after the latest version's ({latest.valid_from.isoformat()})"
        )
    return 1 + max((v.version for v in versions), default=0)


@dataclass(frozen=True)
class Product:
    """A product as offered: its presentation and all its price versions."""

    product_id: str
    name: str
    description: str
    green_energy: bool
    display_order: int
    active: bool
    versions: tuple[ProductVersion, ...]

    def on(self, day: date) -> ProductVersion | None:
        """The version in force on *day*."""
        return version_on(self.versions, day)

    def version(self, number: int) -> ProductVersion | None:
        return next((v for v in self.versions if v.version == number), None)


def version_to_sign(product: Product | None, day: date) -> ProductVersion | None:
    """The version a new contract from *day* signs: None when there is no such product, it is
    withdrawn, or it has no price in force on *day* (a signup, a product change and an import
    all refuse it then)."""
    if product is None or not product.active:
        return None
    return product.on(day)
