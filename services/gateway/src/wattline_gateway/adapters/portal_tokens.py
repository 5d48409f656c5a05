"""SQL for portal_tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from wattline_gateway.domain.portal_tokens import IssuedToken


@dataclass(frozen=True)
class StoredToken:
    token_id: uuid.UUID
    token_hash: str
    customer_id: str
    expires_at: datetime
    revoked_at: datetime | None


async def insert(conn: asyncpg.Connection, token: IssuedToken, issued_by: uuid.UUID) -> None:
    await conn.execute(
        """INSERT INTO portal_tokens (token_id, prefix, token_hash, customer_id, issued_by,
                                      issued_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        token.token_id,
        token.prefix,
        token.token_hash,
        token.customer_id,
        issued_by,
        token.issued_at,
        token.expires_at,
    )


async def by_prefix(conn: asyncpg.Connection, prefix: str) -> StoredToken | None:
    row = await conn.fetchrow(
        """SELECT token_id, token_hash, customer_id, expires_at, revoked_at
           FROM portal_tokens WHERE prefix = $1""",
        prefix,
    )
    if row is None:
        return None
    return StoredToken(
        row["token_id"], row["token_hash"], row["customer_id"], row["expires_at"], row["revoked_at"]
    )


async def revoke(conn: asyncpg.Connection, token_id: uuid.UUID) -> bool:
    status: str = await conn.execute(
        "UPDATE portal_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL",
        token_id,
    )
    return status.endswith(" 1")


async def revoke_customer(conn: asyncpg.Connection, customer_id: str) -> int:
    status: str = await conn.execute(
        """UPDATE portal_tokens SET revoked_at = now()
           WHERE customer_id = $1 AND revoked_at IS NULL AND expires_at > now()""",
        customer_id,
    )
    return int(status.rsplit(" ", 1)[1])


async def purge_expired(conn: asyncpg.Connection, before: datetime) -> int:
    """Delete up to 100 tokens that expired before *before*; how many. Rows another issuer is
    deleting are skipped, so two issuers at once never wait on (or deadlock with) each other."""
    status: str = await conn.execute(
        """DELETE FROM portal_tokens WHERE token_id IN (
               SELECT token_id FROM portal_tokens WHERE expires_at < $1
               LIMIT 100 FOR UPDATE SKIP LOCKED)""",
        before,
    )
    return int(status.rsplit(" ", 1)[1])
