"""Gateway commands: create and revoke API keys (used by ``wattline apikey``); record calls in
the audit trail and read it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from wattline_platform.db import Database

from wattline_gateway.adapters import api_keys as repo
from wattline_gateway.adapters import audit as audit_repo
from wattline_gateway.adapters import backoffice as backoffice_repo
from wattline_gateway.adapters import portal_tokens as portal_repo
from wattline_gateway.domain import api_keys, audit, backoffice, portal_tokens


async def create_api_key(
    conn: asyncpg.Connection,
    name: str,
    scopes: list[str],
    rate_limit_per_minute: int = 600,
    channel: str | None = None,
) -> str:
    """Store a new key with *scopes*, bound to sales *channel* if given; return the key itself
    (shown once, never stored)."""
    api_keys.validate_name(name)
    checked = api_keys.validate_scopes(scopes)
    bound = api_keys.validate_channel(channel)
    new = api_keys.generate()
    await repo.insert(conn, name, new.prefix, new.key_hash, checked, rate_limit_per_minute, bound)
    return new.secret


async def revoke_api_key(conn: asyncpg.Connection, name: str) -> bool:
    """Revoke the key called *name*; False when there is no such active key."""
    return await repo.revoke(conn, name)


# -- back-office users and sessions -------------------------------------------------------


async def create_backoffice_user(
    conn: asyncpg.Connection, username: str, scopes: list[str], password: str | None = None
) -> str | None:
    """Store user *username* with *scopes* (as an API key's) and a password (random unless
    given); the password (shown once, stored hashed), or None when the user exists."""
    name = backoffice.validate_username(username)
    checked = api_keys.validate_scopes(scopes)
    secret = password or backoffice.new_password()
    created = await backoffice_repo.insert_user(
        conn, name, backoffice.hash_password(secret), checked
    )
    return secret if created else None


@dataclass(frozen=True)
class NewSession:
    token: str  # for the cookie only: never logged, never stored
    session: backoffice_repo.Session


# scrypt runs in threads (it releases the GIL), so a login never stalls the gateway's other
# requests; two at a time at most, so a flood of logins queues instead of eating the memory.
_HASHING = asyncio.Semaphore(2)


async def log_in(
    db: Database,
    username: str,
    password: str,
    lifetime: timedelta,
    now: datetime | None = None,
    replacing: str | None = None,
) -> NewSession | None:
    """A new session of *username* when *password* is theirs and they are enabled, else None
    (the same work either way). The session whose token is *replacing* (the browser's old
    cookie) ends with the new one's start."""
    now = now or datetime.now(UTC)
    async with db.connection() as conn:
        user = await backoffice_repo.active_user(conn, username)
    async with _HASHING:
        verified = await asyncio.to_thread(
            backoffice.verify_password, password, user[0] if user else None
        )
    if not verified or user is None:
        return None
    token = backoffice.new_session_token()
    session = backoffice_repo.Session(uuid.uuid4(), username, user[1], now + lifetime)
    async with db.transaction() as tx:
        await backoffice_repo.insert_session(
            tx, session.id, backoffice.hash_token(token), username, now, session.expires_at
        )
        if replacing:
            await backoffice_repo.revoke_session_by_token(tx, backoffice.hash_token(replacing))
        # Logging in keeps the table small: sessions a day past their end go.
        await backoffice_repo.purge_sessions(tx, now - timedelta(days=1))
    return NewSession(token, session)


async def session_of(db: Database, token: str) -> backoffice_repo.Session | None:
    """The live session whose cookie carries *token*, else None."""
    async with db.connection() as conn:
        return await backoffice_repo.live_session(
            conn, backoffice.hash_token(token), datetime.now(UTC)
        )


async def log_out(db: Database, session_id: uuid.UUID) -> None:
    async with db.connection() as conn:
        await backoffice_repo.revoke_session(conn, session_id)


# -- portal tokens ------------------------------------------------------------------------


async def issue_portal_token(
    db: Database,
    issuer: portal_tokens.PortalTokenIssuer,
    customer_id: str,
    issued_by: uuid.UUID,
    now: datetime | None = None,
) -> portal_tokens.IssuedToken:
    """A new portal token for *customer_id*, stored hashed (the secret is returned once)."""
    token = issuer.issue(customer_id, now or datetime.now(UTC))
    async with db.transaction() as tx:
        await portal_repo.insert(tx, token, issued_by)
        # Tokens long expired are of no use to anyone: issuing keeps the table from growing.
        await portal_repo.purge_expired(tx, token.issued_at - portal_tokens.KEEP_EXPIRED)
    return token


async def revoke_portal_token(db: Database, token_id: uuid.UUID) -> bool:
    """Revoke one portal token; False when there is no such unrevoked token."""
    async with db.connection() as conn:
        return await portal_repo.revoke(conn, token_id)


async def revoke_customer_portal_tokens(db: Database, customer_id: str) -> int:
    """Revoke every unexpired portal token of *customer_id*; how many were."""
    async with db.connection() as conn:
        return await portal_repo.revoke_customer(conn, customer_id)


# -- the audit trail ----------------------------------------------------------------------


async def record_call(
    db: Database,
    key: repo.StoredKey,
    method: str,
    raw_path: str,
    routed_rest: str,
    correlation_id: str,
) -> int:
    """Record a state-changing call by *key* to *raw_path* (as received; *routed_rest*: the
    decoded rest after its first segment, as routed) before it is forwarded; the entry's id.

    Its own statement, committed before the call leaves the gateway: whatever happens next
    (the service fails, the gateway is killed), the call is on record, its outcome unknown.
    """
    path = raw_path[: audit.MAX_PATH]
    async with db.connection() as conn:
        return await audit_repo.begin(
            conn,
            at=datetime.now(UTC),
            key_id=key.id,
            key_name=key.name,
            method=method.upper(),
            path=path,
            target=audit.target_of(routed_rest),
            correlation_id=correlation_id[:128],
        )


async def record_outcome(db: Database, entry_id: int, status: int) -> None:
    """Complete entry *entry_id* with the status the caller was answered."""
    async with db.connection() as conn:
        await audit_repo.finish(conn, entry_id, status)


@dataclass(frozen=True)
class AuditQuery:
    """A page of the trail, newest first: entries older than ``after`` (an entry id)."""

    limit: int
    after: int | None = None
    target: str | None = None
    key: str | None = None  # a key's name or id
    since: datetime | None = None
    until: datetime | None = None


async def audit_trail(db: Database, query: AuditQuery) -> tuple[list[audit.AuditEntry], int | None]:
    """The entries *query* asks for, and the cursor of the next page (None: no more)."""
    key_id: uuid.UUID | None = None
    if query.key is not None:
        with contextlib.suppress(ValueError):
            key_id = uuid.UUID(query.key)
    async with db.connection() as conn:
        entries = await audit_repo.page(
            conn,
            limit=query.limit,
            before_id=query.after,
            target=query.target.strip("/") if query.target else None,
            key_name=query.key if key_id is None else None,
            key_id=key_id,
            since=_utc(query.since),
            until=_utc(query.until),
        )
    return entries, entries[-1].id if len(entries) == query.limit else None


def _utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC (the trail's times are UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
