"""Portal tokens: a customer's short-lived, revocable access to the portal routes.

A portal token is bound to one customer and carries the one scope ``portal:read``: the gateway
forwards it only to ``GET /api/<service>/portal/...`` (every other route answers 403), and the
identity it signs names the customer, from which alone the services find what to show.

Who may ask for a token is a port, :class:`PortalTokenIssuer`: today back office issues one for
a customer id (:class:`BackOfficeIssuer`); a MitID login would be another issuer that first
proves who the person is and maps them to the customer, then issues the same kind of token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

TOKEN_PATTERN = re.compile(r"^wp_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})$")
PORTAL_SCOPE = "portal:read"
ISSUE_SCOPE = "portal:issue"
# The first path segment after /api/<service>/ that a portal token may reach.
PORTAL_SEGMENT = "portal"
# The services with portal routes.
PORTAL_SERVICES = frozenset({"portfolio", "settlement", "invoicing"})
MIN_TTL = timedelta(minutes=1)
MAX_TTL = timedelta(hours=12)
# An expired token is kept this long (who had access when stays answerable from the audit
# trail, which names the customer), then deleted.
KEEP_EXPIRED = timedelta(days=7)


class InvalidCustomer(ValueError):
    """A customer id that is not portfolio's (a UUID)."""


class InvalidTtl(ValueError):
    """A lifetime outside ``[MIN_TTL, MAX_TTL]``."""


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: ``secret`` is given to the customer once, ``token_hash`` kept."""

    token_id: uuid.UUID
    prefix: str
    secret: str
    token_hash: str
    customer_id: str
    issued_at: datetime
    expires_at: datetime


class PortalTokenIssuer(Protocol):
    """Where a portal login comes from: given who asks, a token bound to one customer."""

    def issue(self, customer_id: str, now: datetime) -> IssuedToken:
        """A new token for *customer_id*, valid from *now*."""
        ...


@dataclass(frozen=True)
class BackOfficeIssuer:
    """Back office vouches for the customer (a key with ``portal:issue`` names them)."""

    ttl: timedelta

    def __post_init__(self) -> None:
        if not MIN_TTL <= self.ttl <= MAX_TTL:
            raise InvalidTtl(f"a portal token lives between {MIN_TTL} and {MAX_TTL}")

    def issue(self, customer_id: str, now: datetime) -> IssuedToken:
        customer = canonical_customer(customer_id)
        prefix = secrets.token_hex(6)
        secret = f"wp_{prefix}_{secrets.token_urlsafe(32)}"
        return IssuedToken(
            uuid.uuid4(), prefix, secret, hash_token(secret), customer, now, now + self.ttl
        )


def canonical_customer(customer_id: str) -> str:
    """Portfolio's customer id in its one spelling (a lower-case UUID)."""
    try:
        return str(uuid.UUID(customer_id))
    except ValueError:
        raise InvalidCustomer(f"{customer_id!r} is not a customer id (a UUID)") from None


def hash_token(token: str) -> str:
    """SHA-256 of the whole token (random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed portal token, else None."""
    match = TOKEN_PATTERN.match(token)
    return match.group(1) if match else None


def is_portal_token(token: str) -> bool:
    """A bearer credential that is a portal token rather than an API key."""
    return token.startswith("wp_")


def verify(token: str, token_hash: str) -> bool:
    """Constant-time comparison of *token* with a stored hash."""
    return hmac.compare_digest(hash_token(token), token_hash)


def reaches(service: str, rest: str, method: str) -> bool:
    """True when a portal token may call *method* on ``/api/<service>/<rest>``: reads of the
    portal routes only."""
    return (
        method.upper() in ("GET", "HEAD")
        and service in PORTAL_SERVICES
        and rest.strip("/").split("/", 1)[0] == PORTAL_SEGMENT
    )
