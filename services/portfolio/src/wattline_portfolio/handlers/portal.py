"""The customer portal's reads: the customer's metering points with their address and
current supply period, and the current contracts with the product's price terms.

The customer is the portal token's and nothing else. Answers are in customer terms: GSRNs,
dates, product names and prices, never portfolio's internal ids.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from wattline_portfolio.adapters import portal as store
from wattline_portfolio.domain import periods
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.models import (
    PortalAddress,
    PortalContract,
    PortalContracts,
    PortalMeteringPoint,
    PortalMeteringPoints,
    PortalPriceTerms,
    PortalProduct,
    PortalSupply,
)

_TYPES = {"E17": "consumption", "E18": "production", "E20": "exchange"}


def _current(rows: list[Any], today: date) -> Any:
    return rows[periods.current([(r["start_date"], r["end_date"]) for r in rows], today)]


def _by_gsrn(rows: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row["gsrn"], []).append(row)
    return grouped


async def metering_points(p: Portfolio, customer_id: uuid.UUID) -> PortalMeteringPoints | None:
    """Each metering point the customer is (or was) supplied at, with its type, areas, address
    and current supply period (None: no such customer)."""
    today = await p.today()
    async with p.service.database.connection() as conn:
        party = await store.customer(conn, customer_id)
        rows = await store.supply(conn, customer_id)
    if party is None:
        return None
    person = p.vault.open_person(party["sealed"])
    points = []
    for gsrn, supply in _by_gsrn(rows).items():
        now = _current(supply, today)
        points.append(
            PortalMeteringPoint(
                gsrn=gsrn,
                type=_TYPES.get(now["metering_point_type"], "other"),
                grid_area=now["grid_area"],
                price_area=now["price_area"],
                resolution=now["resolution"],
                address_dar_id=now["dar_id"],
                supply=PortalSupply(
                    start_date=now["start_date"],
                    end_date=now["end_date"],
                    supplied_now=periods.covers((now["start_date"], now["end_date"]), today),
                ),
            )
        )
    a = person.address
    return PortalMeteringPoints(
        name=person.name,
        postal_address=PortalAddress(
            street=a.street,
            house_number=a.house_number,
            floor=a.floor,
            door=a.door,
            postal_code=a.postal_code,
            city=a.city,
        ),
        metering_points=points,
    )


async def contracts(p: Portfolio, customer_id: uuid.UUID) -> PortalContracts | None:
    """On each of the customer's metering points the contract in force today (else the next
    to begin, else the latest) with the price version it signed (None: the customer has
    none)."""
    today = await p.today()
    async with p.service.database.connection() as conn:
        rows = await store.contracts(conn, customer_id)
    if not rows:
        return None
    chosen = [_current(group, today) for group in _by_gsrn(rows).values()]
    return PortalContracts(
        contracts=[
            PortalContract(
                gsrn=c["gsrn"],
                start_date=c["start_date"],
                end_date=c["end_date"],
                billing_frequency=c["billing_frequency"],
                payment_model=c["payment_model"],
                product=PortalProduct(
                    name=c["name"],
                    description=c["description"],
                    green_energy=c["green_energy"],
                    prices=PortalPriceTerms(
                        version=c["version"],
                        valid_from=c["valid_from"],
                        price_type=c["price_type"],
                        margin_dkk_per_kwh=c["margin_dkk_per_kwh"],
                        fixed_price_dkk_per_kwh=c["fixed_price_dkk_per_kwh"],
                        subscription_dkk_per_month=c["subscription_dkk_per_month"],
                    ),
                ),
            )
            for c in chosen
        ]
    )
