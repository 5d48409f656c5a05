"""Channel pricing: back office publishes a campaign (channel price rows from a date, each a
product version of its own, within the product's margin corridor); channels read their
current prices, and anyone the full, never rewritten, history of versions.

A campaign's rows are published twice in the one transaction: as
``portfolio.channel_prices.published`` (the campaign as a whole) and each as
``portfolio.product.version_published`` under its own version number, which is all settlement
and invoicing need to bill a contract signed at a channel's price."""

from __future__ import annotations

import uuid
from datetime import date

from wattline_contracts.portfolio import ChannelPricesPublishedV1, ChannelPriceV1

from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.domain.channels import CampaignRow, plan_campaign
from wattline_portfolio.domain.products import (
    Channel,
    ChannelVersion,
    InvalidProduct,
    OutsideCorridor,
    Prices,
    Product,
    ProductVersion,
    channel_version_on,
)
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.errors import InvalidCampaign, ProductNotFound
from wattline_portfolio.handlers.products import outside_corridor, version_event
from wattline_portfolio.models import CampaignIn


def _campaign_event(
    product: Product, versions: tuple[ChannelVersion, ...]
) -> ChannelPricesPublishedV1:
    first = versions[0]
    return ChannelPricesPublishedV1(
        campaign_id=first.campaign_id,
        product_id=product.product_id,
        valid_from=first.valid_from,
        valid_to=first.valid_to,
        min_margin_dkk_per_kwh=product.corridor.minimum,
        max_margin_dkk_per_kwh=product.corridor.maximum,
        prices=[
            ChannelPriceV1(
                channel=v.channel,
                version=v.version,
                price_type=v.prices.price_type,
                margin_dkk_per_kwh=v.prices.margin_dkk_per_kwh,
                fixed_price_dkk_per_kwh=v.prices.fixed_price_dkk_per_kwh,
                subscription_dkk_per_month=v.prices.subscription_dkk_per_month,
            )
            for v in versions
        ],
    )


async def publish_campaign(
    p: Portfolio, product_id: str, body: CampaignIn
) -> tuple[ChannelVersion, ...]:
    """New channel versions of a product from a date; the older ones stay as they were."""
    today = await p.today()
    async with p.service.database.transaction() as tx:
        product = await product_store.get(tx, product_id, for_update=True)
        if product is None:
            raise ProductNotFound(product_id)
        try:
            rows = [
                CampaignRow(
                    row.channel,
                    Prices(
                        row.price_type,
                        row.margin_dkk_per_kwh,
                        row.subscription_dkk_per_month,
                        row.fixed_price_dkk_per_kwh,
                    ),
                )
                for row in body.prices
            ]
            versions = plan_campaign(
                product, str(uuid.uuid4()), rows, body.valid_from, body.valid_to, today
            )
        except OutsideCorridor as exc:
            raise outside_corridor(exc) from None
        except InvalidProduct as exc:
            raise InvalidCampaign(str(exc)) from None
        await product_store.insert_channel_versions(tx, product_id, versions)
        await p.service.emit_many(
            tx,
            [
                (_campaign_event(product, versions), product_id),
                *(
                    (
                        version_event(product, ProductVersion(v.version, v.valid_from, v.prices)),
                        product_id,
                    )
                    for v in versions
                ),
            ],
        )
    return versions


async def product_with_channels(p: Portfolio, product_id: str) -> Product:
    async with p.service.database.connection() as conn:
        product = await product_store.get(conn, product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return product


def price_for(
    product: Product, channel: Channel, day: date
) -> tuple[ProductVersion | None, ChannelVersion | None]:
    """What *channel* sells *product* at on *day*: (the base version, the channel's version,
    None when it falls back to the base price)."""
    return product.on(day), channel_version_on(product.channel_versions, channel, day)
