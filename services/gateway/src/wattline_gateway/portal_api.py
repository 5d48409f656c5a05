"""``/api/portal-tokens``: back office issues and revokes customers' portal tokens, served by
the gateway itself for keys holding ``portal:issue`` (or ``admin``).

A portal token is bound to one customer and reaches only ``GET /api/<service>/portal/...``
(portfolio: metering points and contracts; settlement: consumption and spot prices; invoicing:
invoices, credit notes, payments and the balance). Send it as ``Authorization: Bearer wp_...``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litestar import Request, delete, post
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.openapi_problems import problems
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_gateway import handlers
from wattline_gateway.adapters.api_keys import StoredKey
from wattline_gateway.domain import portal_tokens

if TYPE_CHECKING:
    from wattline_gateway.api import Gateway

PATH = "/api/portal-tokens"
FIRST_SEGMENT = "portal-tokens"  # neither a service's name nor an alias may be this


class PortalTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(
        min_length=36, max_length=36, description="the customer's id in the portfolio (a UUID)"
    )


class PortalTokenOut(BaseModel):
    """The token is shown once; only its hash is kept."""

    model_config = ConfigDict(frozen=True)

    token: str = Field(description="send as 'Authorization: Bearer <token>'")
    token_id: str = Field(description="to revoke it: DELETE /api/portal-tokens/{token_id}")
    customer_id: str
    expires_at: datetime = Field(description="UTC; the token is refused (401) from then")


class PortalTokenRevoked(BaseModel):
    model_config = ConfigDict(frozen=True)

    token_id: str
    revoked: bool = Field(description="false: no such token, or it was already revoked")


class CustomerTokensRevoked(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    revoked: int = Field(description="how many unexpired tokens were revoked by this call")


def _issuer(key: StoredKey) -> str | None:
    # Back office only: a channel's key or a portal token must not mint customers' tokens.
    if key.channel is not None or key.customer is not None:
        return "a back-office key"
    scopes = key.scopes
    return None if "admin" in scopes or portal_tokens.ISSUE_SCOPE in scopes else "portal:issue"


def routes(gateway: Gateway) -> list[Any]:
    """The portal-token route handlers, authenticating through *gateway*."""

    @post(
        PATH,
        summary="Issue a customer's portal token",
        description=(
            "A short-lived token bound to one customer: it reaches only the portal routes "
            "(GET /api/portfolio/portal/..., /api/settlement/portal/..., "
            "/api/invoicing/portal/...), which show that customer's own data only. "
            "Needs portal:issue."
        ),
        tags=["portal"],
        operation_id="issuePortalToken",
        status_code=201,
    )
    async def issue(
        request: Request[Any, Any, Any], service: ServiceDep, data: JSONBody[PortalTokenIn]
    ) -> PortalTokenOut:
        key = await gateway.admit(service, request, _issuer)
        # Checked and written canonically before it goes on record: the trail names the
        # customer as a search by their id finds them (not 'ABC...' beside 'abc...'); what
        # is no customer id is a 400, as revoking a customer's tokens refuses it.
        try:
            customer = portal_tokens.canonical_customer(data.customer_id)
        except portal_tokens.InvalidCustomer as exc:
            raise Problem(400, "invalid-customer", "Invalid customer id", str(exc)) from None

        async def issue_token() -> PortalTokenOut:
            token = await handlers.issue_portal_token(
                service.database, gateway.portal_issuer, customer, key.id
            )
            return PortalTokenOut(
                token=token.secret,
                token_id=str(token.token_id),
                customer_id=token.customer_id,
                expires_at=token.expires_at,
            )

        # On the audit trail with the customer as its target: who gave whom access, and when.
        return await gateway.audited(
            service, key, "POST", PATH, customer, issue_token, lambda _: 201
        )

    @delete(
        f"{PATH}/{{token_id:str}}",
        summary="Revoke a portal token",
        description="From this call on the token is refused (401). Needs portal:issue.",
        tags=["portal"],
        operation_id="revokePortalToken",
        status_code=200,
        responses=problems(404),  # a token id that is not a UUID
    )
    async def revoke(
        request: Request[Any, Any, Any], service: ServiceDep, token_id: FromPath[str]
    ) -> PortalTokenRevoked:
        key = await gateway.admit(service, request, _issuer)
        try:
            parsed = uuid.UUID(token_id)
        except ValueError:
            raise Problem(404, "portal-token-not-found", "No such portal token", token_id) from None

        async def revoke_token() -> PortalTokenRevoked:
            revoked = await handlers.revoke_portal_token(service.database, parsed)
            return PortalTokenRevoked(token_id=str(parsed), revoked=revoked)

        return await gateway.audited(
            service, key, "DELETE", f"{PATH}/{parsed}", str(parsed), revoke_token, lambda _: 200
        )

    @delete(
        PATH,
        summary="Revoke every portal token of a customer",
        description=(
            "Every unexpired token of the customer is refused (401) from this call on: for a "
            "lost device, a customer who leaves, or an erasure. Needs portal:issue."
        ),
        tags=["portal"],
        operation_id="revokeCustomerPortalTokens",
        status_code=200,
        responses=problems(400),
    )
    async def revoke_customer(
        request: Request[Any, Any, Any], service: ServiceDep, customer_id: FromQuery[str]
    ) -> CustomerTokensRevoked:
        key = await gateway.admit(service, request, _issuer)
        try:
            customer = str(uuid.UUID(customer_id))
        except ValueError:
            raise Problem(
                400, "invalid-customer", "Invalid customer id", "customer_id must be a UUID"
            ) from None

        async def revoke_all() -> CustomerTokensRevoked:
            count = await handlers.revoke_customer_portal_tokens(service.database, customer)
            return CustomerTokensRevoked(customer_id=customer, revoked=count)

        return await gateway.audited(
            service, key, "DELETE", PATH, customer, revoke_all, lambda _: 200
        )

    return [issue, revoke, revoke_customer]
