"""The customer portal's portfolio routes, ``GET /api/portfolio/portal/...``, for a customer's
portal token only (``FOR_CUSTOMERS``): the customer's metering points with their address and
current supply period, and the current contracts with the product's price terms.

The customer is the identity's and nothing else. Responses are in customer terms: GSRNs,
dates, product names and prices, never portfolio's internal ids.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from litestar import get
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.identity import FOR_CUSTOMERS, Identity, IdentityDep
from wattline_platform.problem import Problem

from wattline_portfolio.adapters import portal as store
from wattline_portfolio.domain import periods
from wattline_portfolio.handlers import Portfolio

PREFIX = "/api/portfolio/portal"
_TYPES = {"E17": "consumption", "E18": "production", "E20": "exchange"}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class PortalAddress(_Out):
    street: str
    house_number: str
    floor: str | None
    door: str | None
    postal_code: str
    city: str


class PortalSupply(_Out):
    start_date: date = Field(description="first day we supply it (Danish local date)")
    end_date: date | None = Field(description="day after the last (exclusive); null: open")
    supplied_now: bool = Field(description="we supply it today")


class PortalMeteringPoint(_Out):
    gsrn: str
    type: Literal["consumption", "production", "exchange", "other"]
    grid_area: str | None = Field(description="the grid company's area (netområde)")
    price_area: Literal["DK1", "DK2"] | None
    resolution: str | None = Field(description="PT1H hourly or PT15M quarter-hourly")
    address_dar_id: uuid.UUID | None = Field(
        description="the supply address's id in Danmarks Adresseregister (DAR)"
    )
    supply: PortalSupply = Field(description="the current supply period (else the latest)")


class PortalMeteringPoints(_Out):
    name: str = Field(description="the customer's name")
    postal_address: PortalAddress = Field(description="where bills are sent")
    metering_points: list[PortalMeteringPoint]


class PortalPriceTerms(_Out):
    version: int = Field(description="the product's price version the contract signed")
    valid_from: date
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: Decimal = Field(description="on top of the spot price, excl. VAT")
    fixed_price_dkk_per_kwh: Decimal | None = Field(description="fixed price, excl. VAT")
    subscription_dkk_per_month: Decimal = Field(description="excl. VAT")


class PortalProduct(_Out):
    name: str
    description: str
    green_energy: bool
    prices: PortalPriceTerms


class PortalContract(_Out):
    gsrn: str
    start_date: date
    end_date: date | None = Field(description="exclusive; null: until further notice")
    billing_frequency: Literal["monthly", "quarterly"]
    payment_model: Literal["aconto", "arrears"]
    product: PortalProduct


class PortalContracts(_Out):
    """The customer's current contract on each metering point (else the next one)."""

    contracts: list[PortalContract]


def _customer(identity: Identity) -> uuid.UUID:
    if identity.customer is None:  # FOR_CUSTOMERS lets only portal tokens in
        raise Problem(403, "portal-only", "Only for a customer's portal token")
    try:
        return uuid.UUID(identity.customer)
    except ValueError:  # no customer of ours: as one without data
        raise Problem(404, "customer-not-found", "No such customer") from None


def _current(rows: list[Any], today: date) -> Any:
    return rows[periods.current([(r["start_date"], r["end_date"]) for r in rows], today)]


def _by_gsrn(rows: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row["gsrn"], []).append(row)
    return grouped


def routes(p: Portfolio) -> list[Any]:
    """The portal's portfolio route handlers bound to *p*."""

    @get(
        f"{PREFIX}/metering-points",
        summary="Portal: my metering points",
        description=(
            "For a customer's portal token: each metering point the customer is (or was) "
            "supplied at, with its type, areas, address and current supply period."
        ),
        tags=["portal"],
        opt=FOR_CUSTOMERS,
    )
    async def my_metering_points(identity: IdentityDep) -> PortalMeteringPoints:
        customer_id = _customer(identity)
        today = await p.today()
        async with p.service.database.connection() as conn:
            party = await store.customer(conn, customer_id)
            rows = await store.supply(conn, customer_id)
        if party is None:
            raise Problem(404, "customer-not-found", "No such customer")
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

    @get(
        f"{PREFIX}/contract",
        summary="Portal: my current contract and product with its prices",
        description=(
            "For a customer's portal token: on each of the customer's metering points the "
            "contract in force today (else the next to begin, else the latest) and the "
            "product with the price version it signed. A customer without one is 404."
        ),
        tags=["portal"],
        opt=FOR_CUSTOMERS,
    )
    async def my_contract(identity: IdentityDep) -> PortalContracts:
        customer_id = _customer(identity)
        today = await p.today()
        async with p.service.database.connection() as conn:
            rows = await store.contracts(conn, customer_id)
        if not rows:
            raise Problem(404, "contract-not-found", "No contract", "the customer has none")
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

    return [my_metering_points, my_contract]
