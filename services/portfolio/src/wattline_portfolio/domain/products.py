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
Channel = Literal["web", "app", "customer_service", "partner"]
CHANNELS: tuple[Channel, ...] = ("web", "app", "customer_service", "partner")


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


@dataclass(frozen=True)
class ChannelVersion:
    """A sales channel's own prices of a product: a product version of its own (its number is
    what a contract signed through the channel keeps), from ``valid_from`` to ``valid_to``
    (inclusive; None: until the channel's next version). ``campaign_id`` groups the rows
    published together."""

    version: int
    channel: Channel
    campaign_id: str
    valid_from: date
    valid_to: date | None
    prices: Prices

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def channel_version_on(
    versions: Sequence[ChannelVersion], channel: Channel, day: date
) -> ChannelVersion | None:
    """The *channel*'s version in force on *day*: of those running that day, the latest to
    start (a time-limited campaign over a standing channel price); None: the base price."""
    running = [v for v in versions if v.channel == channel and v.in_force(day)]
    return max(running, key=lambda v: v.valid_from) if running else None


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
class MarginCorridor:
    """The margins a product's price rows may have (DKK/kWh excl. VAT); None: no limit."""

    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def __post_init__(self) -> None:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise InvalidProduct(
                f"min_margin_dkk_per_kwh {self.minimum} is above max_margin_dkk_per_kwh "
                f"{self.maximum}"
            )

    def check(self, margin: Decimal) -> None:
        """Refuse *margin* outside the corridor, naming the limit it breaks."""
        if self.maximum is not None and margin > self.maximum:
            raise OutsideCorridor(margin, "maximum", self.maximum)
        if self.minimum is not None and margin < self.minimum:
            raise OutsideCorridor(margin, "minimum", self.minimum)


class OutsideCorridor(InvalidProduct):
    """A price row whose margin is outside its product's corridor."""

    def __init__(self, margin: Decimal, bound: Literal["minimum", "maximum"], limit: Decimal):
        side = "above" if bound == "maximum" else "below"
        super().__init__(
            f"margin {_dkk(margin)} DKK/kWh {side} the product's {bound} {_dkk(limit)}"
        )
        self.margin, self.bound, self.limit = margin, bound, limit


def _dkk(amount: Decimal) -> str:
    """An amount as people write it: 0.450000 is 0.45, 0.4 is 0.40."""
    text = format(amount.normalize(), "f")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


@dataclass(frozen=True)
class Product:
    """A product as offered: its presentation, its base price versions, the margin corridor
    every price row keeps to, and the sales channels' own price versions
    (:mod:`wattline_portfolio.domain.channels`)."""

    product_id: str
    name: str
    description: str
    green_energy: bool
    display_order: int
    active: bool
    versions: tuple[ProductVersion, ...]
    corridor: MarginCorridor = MarginCorridor()
    channel_versions: tuple[ChannelVersion, ...] = ()

    def on(self, day: date) -> ProductVersion | None:
        """The base version in force on *day*."""
        return version_on(self.versions, day)

    def version(self, number: int) -> ProductVersion | None:
        return next((v for v in self.versions if v.version == number), None)

    def next_number(self) -> int:
        """The number of the next version, base or channel: one numbering for both, so a
        contract's (product, version) names exactly one price row."""
        numbers = [v.version for v in self.versions] + [v.version for v in self.channel_versions]
        return 1 + max(numbers, default=0)


def version_to_sign(
    product: Product | None,
    day: date,
    channel: Channel | None = None,
    signed_on: date | None = None,
) -> ProductVersion | None:
    """The version a new contract from *day* signs: None when there is no such product, it is
    withdrawn, or it has no price in force on *day* (a signup, a product change and an import
    all refuse it then).

    Through a sales *channel*, the channel's price in force on the day it is signed
    (*signed_on*: a campaign's price is what the customer was offered), else the base version
    on *day* as without a channel."""
    if product is None or not product.active:
        return None
    base = product.on(day)
    if base is None:
        return None
    if channel is not None:
        offered = channel_version_on(product.channel_versions, channel, signed_on or day)
        if offered is not None:
            return ProductVersion(offered.version, offered.valid_from, offered.prices)
    return base
