"""Channel pricing: a campaign publishes price rows for sales channels (web, app, customer
service, partners), each its own immutable product version, each within the product's margin
corridor. A channel without a row in force sells at the product's base price.

Which channel a signup is priced for: the channel its API key is bound to decides (a key bound
to ``website`` sells at the ``web`` prices, a partner's key at ``partner``'s); back office may
name any channel, and a channel's key may only name its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from wattline_portfolio.domain.products import (
    CHANNELS,
    Channel,
    ChannelVersion,
    InvalidProduct,
    Prices,
    Product,
)


class ChannelNotAllowed(ValueError):
    """A channel's key asked for another channel's prices."""


@dataclass(frozen=True)
class CampaignRow:
    """One channel's prices in a campaign."""

    channel: Channel
    prices: Prices


def plan_campaign(
    product: Product,
    campaign_id: str,
    rows: Sequence[CampaignRow],
    valid_from: date,
    valid_to: date | None,
    today: date,
) -> tuple[ChannelVersion, ...]:
    """The versions a campaign publishes, numbered after every existing version of the
    product. Refused (InvalidProduct) when it starts in the past, ends before it starts, names
    a channel twice, a row's margin is outside the corridor (OutsideCorridor names the limit),
    or it starts on or before a version its channel already has (versions are never
    rewritten: a later campaign overrides an open-ended one from its own date)."""
    if not rows:
        raise InvalidProduct("a campaign needs at least one channel row")
    if valid_from < today:
        raise InvalidProduct(f"valid_from {valid_from} is in the past (today is {today})")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidProduct(f"valid_to {valid_to} is before valid_from {valid_from}")
    channels = [row.channel for row in rows]
    twice = sorted({c for c in channels if channels.count(c) > 1})
    if twice:
        raise InvalidProduct(f"channel {', '.join(twice)} given more than once")
    for row in rows:
        product.corridor.check(row.prices.margin_dkk_per_kwh)
        latest = max(
            (v.valid_from for v in product.channel_versions if v.channel == row.channel),
            default=None,
        )
        if latest is not None and valid_from <= latest:
            raise InvalidProduct(
                f"valid_from must be after {row.channel}'s latest version ({latest.isoformat()})"
            )
    first = product.next_number()
    return tuple(
        ChannelVersion(first + i, row.channel, campaign_id, valid_from, valid_to, row.prices)
        for i, row in enumerate(rows)
    )


def channel_of_key(key_channel: str | None) -> Channel | None:
    """The pricing channel of an API key's sales channel (None: a back-office key, or a
    channel with no prices of its own, which sells at the base price)."""
    if key_channel is None:
        return None
    if key_channel in CHANNELS:
        return key_channel
    if key_channel in ("website", "webshop"):
        return "web"
    if key_channel.startswith(("partner-", "partner_")):
        return "partner"
    if key_channel.startswith(("app-", "app_")):
        return "app"
    return None


def signing_channel(key_channel: str | None, asked: Channel | None) -> Channel | None:
    """The channel whose prices a signup signs: what back office *asked* for; a channel's key
    signs its own channel's and may not ask for another's (ChannelNotAllowed)."""
    if key_channel is None:
        return asked
    own = channel_of_key(key_channel)
    if asked is not None and asked != own:
        raise ChannelNotAllowed(
            f"key bound to channel {key_channel!r} signs {own or 'the base'} prices, not {asked}"
        )
    return own
