"""SQL for api_keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class StoredKey:
    id: uuid.UUID
    name: str
    key_hash: str
    scopes: frozenset[str]
    rate_limit_per_minute: int
    revoked_at: datetime | None
    channel: str | None = None
    # A portal token is authenticated as a key bound to this customer (adapters/portal_tokens).
    customer: str | None = None


async def insert(
    conn: asyncpg.Connection,
    name: str,
    prefix: str,
    key_hash: str,
    scopes: list[str],
    rate_limit_per_minute: int,
    channel: str | None = None,
) -> uuid.UUID:
    key_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO api_keys (id, name, prefix, key_hash, scopes, rate_limit_per_minute,
                                 channel)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        key_id,
        name,
        prefix,
        key_hash,
        scopes,
        rate_limit_per_minute,
        channel,
    )
    return key_id


async def by_prefix(conn: asyncpg.Connection, prefix: str) -> StoredKey | None:
    row = await conn.fetchrow(
        """SELECT id, name, key_hash, scopes, rate_limit_per_minute, revoked_at, channel
           FROM api_keys WHERE prefix = $1""",
        prefix,
    )
    if row is None:
        return None
    return StoredKey(
        row["id"],
        row["name"],
        row["key_hash"],
        frozenset(row["scopes"]),
        row["rate_limit_per_minute"],
        row["revoked_at"],
        row["channel"],
    )


async def revoke(conn: asyncpg.Connection, name: str) -> bool:
    status: str = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL", name
    )
    return status.endswith(" 1")


async def list_keys(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT name, prefix, scopes, rate_limit_per_minute, channel, created_at, revoked_at
           FROM api_keys ORDER BY name"""
    )
    return rows


async def listed(conn: asyncpg.Connection, name: str) -> asyncpg.Record | None:
    """The key called *name* as ``list_keys`` shows it (no hash), or None."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT name, prefix, scopes, rate_limit_per_minute, channel, created_at, revoked_at
           FROM api_keys WHERE name = $1""",
        name,
    )
    return row
