"""The gateway's signed identity: how a service knows a request came through the gateway.

The gateway authenticates the caller's API key, then forwards the request with a short-lived
token in :data:`IDENTITY_HEADER`: an HS256 JWT, signed with the one ``IDENTITY_KEY`` every
process shares, naming the key (id and name), its scopes and the sales channel or customer it
is bound to. A service verifies the token and nothing else: a direct call to its port without
it, with a token signed by another key, meant for another audience or older than its expiry,
is refused (401). The token lives about a minute, so one seen in a log or a proxy is of little
use; it never carries the API key itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.utils import normalize_path
from pydantic import SecretStr

from wattline_platform.problem import Problem, problem_response

ExceptionHandler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]

IDENTITY_HEADER = "X-Wattline-Identity"
AUDIENCE = "wattline-services"
ISSUER = "wattline-gateway"
ALGORITHM = "HS256"
TTL = timedelta(seconds=60)
# Clocks of the gateway and a service may differ a little (two hosts, two containers).
LEEWAY = timedelta(seconds=5)
MIN_KEY_LENGTH = 32


class InvalidIdentity(Exception):
    """The identity token is missing, forged, meant for another audience, or expired."""


@dataclass(frozen=True)
class Identity:
    """Who a forwarded request acts for.

    ``channel``: the sales channel the key is bound to; it sees only what that channel made.
    ``customer``: the customer a portal token is bound to; it sees only that customer's own
    data, on the routes marked :data:`FOR_CUSTOMERS`. Neither: back office.
    """

    key_id: str
    key_name: str
    scopes: frozenset[str]
    channel: str | None = None
    customer: str | None = None


def new_key() -> str:
    """A fresh random signing key (for ``IDENTITY_KEY``)."""
    return secrets.token_urlsafe(32)


def _checked(key: str) -> str:
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"the identity key must be at least {MIN_KEY_LENGTH} characters")
    return key


def sign(identity: Identity, key: str, *, now: datetime | None = None, ttl: timedelta = TTL) -> str:
    """A token for *identity*, valid for *ttl* from *now* (the gateway's side)."""
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "sub": identity.key_id,
        "name": identity.key_name,
        "scopes": sorted(identity.scopes),
    }
    if identity.channel is not None:
        claims["channel"] = identity.channel
    if identity.customer is not None:
        claims["customer"] = identity.customer
    return jwt.encode(claims, _checked(key), algorithm=ALGORITHM)


def verify(token: str, key: str) -> Identity:
    """The identity *token* carries; :class:`InvalidIdentity` unless it is genuine and fresh."""
    try:
        claims = jwt.decode(
            token,
            _checked(key),
            algorithms=[ALGORITHM],  # never what the token's header claims
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "aud", "iss", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidIdentity(str(exc)) from None
    scopes = claims.get("scopes")
    name = claims.get("name")
    channel = claims.get("channel")
    customer = claims.get("customer")
    if (
        not isinstance(scopes, list)
        or not all(isinstance(s, str) for s in scopes)
        or not isinstance(name, str)
        or not isinstance(channel, str | None)
        or not isinstance(customer, str | None)
    ):
        raise InvalidIdentity("malformed claims")
    return Identity(str(claims["sub"]), name, frozenset(scopes), channel, customer)


class SigningAuth(httpx.Auth):
    """httpx authentication that signs a fresh *identity* into every request.

    For callers that reach a service without the gateway yet hold the key: the CLI driving the
    simulator's control routes, and tests. Per request, so a long-lived client never sends an
    expired token.
    """

    def __init__(self, identity: Identity, key: str) -> None:
        self._identity = identity
        self._key = _checked(key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[IDENTITY_HEADER] = sign(self._identity, self._key)
        yield request


# -- at a service's edge ------------------------------------------------------------------------


def api_paths(method: str, path: str) -> bool:
    """Which requests must carry the identity by default: every ``/api/*`` one."""
    return path == "/api" or path.startswith("/api/")


def no_paths(method: str, path: str) -> bool:
    """For the gateway itself, which authenticates API keys instead."""
    return False


class IdentityCheck:
    """A Litestar guard refusing requests without a genuine identity, and the ``identity``
    dependency handlers take it from.

    A guard runs before a handler's parameters are parsed, so a direct call learns nothing
    about a route (not even whether its parameters were valid) without the identity. Without a
    configured key nothing can be verified: every request that needs one is refused.
    """

    def __init__(self, key: SecretStr | None, required: Callable[[str, str], bool]) -> None:
        self._key = key.get_secret_value() if key is not None else None
        self._required = required

    def identity(self, headers: Mapping[str, str]) -> Identity:
        """The verified identity of a request's *headers*; a 401 :class:`Problem` if none."""
        token = headers.get(IDENTITY_HEADER.lower())
        if not token:
            raise Problem(
                401,
                "unauthenticated",
                "Not through the gateway",
                "this service answers only requests the gateway forwarded",
            )
        if self._key is None:
            raise Problem(401, "invalid-identity", "Invalid identity", "no IDENTITY_KEY set")
        try:
            return verify(token, self._key)
        except InvalidIdentity:
            raise Problem(401, "invalid-identity", "Invalid identity") from None

    def guard(
        self, connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        if self._required(str(connection.scope.get("method", "GET")), connection.scope["path"]):
            found = self.identity(connection.headers)
            if found.customer is not None:
                # A portal token reaches the portal's routes and nothing else.
                if not handler.opt.get("for_customers"):
                    raise Problem(
                        403,
                        "back-office-only",
                        "Not for a portal token",
                        "a customer's portal token reaches only the portal's routes",
                    )
            elif handler.opt.get("for_customers") and not handler.opt.get("for_channels"):
                raise Problem(
                    403,
                    "portal-only",
                    "Only for a customer's portal token",
                    "the portal shows one customer's own data: call it with a portal token",
                )
            elif found.channel is not None and not handler.opt.get("for_channels"):
                raise Problem(
                    403,
                    "back-office-only",
                    "Not for a channel's key",
                    f"key '{found.key_name}' is bound to a channel or customer",
                )
            state = connection.scope.setdefault("state", {})
            state[_STATE_KEY] = found

    def provide(self, request: Request[Any, Any, Any]) -> Identity:
        found = _verified(request)
        return found if found is not None else self.identity(request.headers)

    def unmatched(self, fallback: ExceptionHandler) -> ExceptionHandler:
        """*fallback* (the 404/405 handler) behind the same check: the router answers a path or
        method no route has before any guard runs, and without this a caller without identity
        could tell a route that exists from one that does not."""

        def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
            # As the router reads it (//api/x is /api/x): unrouted, the scope's path is not.
            if self._required(request.method, normalize_path(request.url.path)):
                try:
                    self.identity(request.headers)
                except Problem as refused:
                    return problem_response(refused, request.url.path)
            return fallback(request, exc)

        return handler


_STATE_KEY = "wattline.identity"


def _verified(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity | None:
    found = (connection.scope.get("state") or {}).get(_STATE_KEY)
    return found if isinstance(found, Identity) else None


# ``opt=FOR_CHANNELS`` on a route (or a controller): it shows a channel- or customer-bound caller
# only what is its own. Every other route refuses such a caller (403), whatever its scopes: a
# route shows everything unless it says it does not.
FOR_CHANNELS = {"for_channels": True}

# ``opt=FOR_CUSTOMERS``: a portal route. Only a customer-bound identity (a portal token) reaches
# it, and it shows only that customer's own data, found from ``identity.customer`` alone (never
# from a customer id in the request). Back office and channel keys get 403 there, and a portal
# token gets 403 on every route without it.
FOR_CUSTOMERS = {"for_customers": True}


# Type of the ``identity`` parameter of a route handler: who the gateway says is calling.
IdentityDep = NamedDependency[Identity]

__all__ = [
    "FOR_CHANNELS",
    "FOR_CUSTOMERS",
    "IDENTITY_HEADER",
    "Identity",
    "IdentityCheck",
    "IdentityDep",
    "InvalidIdentity",
    "SigningAuth",
    "api_paths",
    "new_key",
    "no_paths",
    "sign",
    "verify",
]
