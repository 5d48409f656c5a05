"""The customer portal's portfolio routes, ``GET /api/portfolio/portal/...``, for a customer's
portal token only (``FOR_CUSTOMERS``): the customer's metering points with their address and
current supply period, and the current contracts with the product's price terms.

The customer is the identity's and nothing else. Responses are in customer terms: GSRNs,
dates, product names and prices, never portfolio's internal ids.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from wattline_platform.identity import FOR_CUSTOMERS, Identity, IdentityDep
from wattline_platform.problem import Problem

from wattline_portfolio.handlers import Portfolio, portal
from wattline_portfolio.models import PortalContracts, PortalMeteringPoints

PREFIX = "/api/portfolio/portal"


def _customer(identity: Identity) -> uuid.UUID:
    if identity.customer is None:  # FOR_CUSTOMERS lets only portal tokens in
        raise Problem(403, "portal-only", "Only for a customer's portal token")
    try:
        return uuid.UUID(identity.customer)
    except ValueError:  # no customer of ours: as one without data
        raise Problem(404, "customer-not-found", "No such customer") from None


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
async def my_metering_points(
    identity: IdentityDep, portfolio: NamedDependency[Portfolio]
) -> PortalMeteringPoints:
    found = await portal.metering_points(portfolio, _customer(identity))
    if found is None:
        raise Problem(404, "customer-not-found", "No such customer")
    return found


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
async def my_contract(
    identity: IdentityDep, portfolio: NamedDependency[Portfolio]
) -> PortalContracts:
    found = await portal.contracts(portfolio, _customer(identity))
    if found is None:
        raise Problem(404, "contract-not-found", "No contract", "the customer has none")
    return found


ROUTES: list[Any] = [my_metering_points, my_contract]
