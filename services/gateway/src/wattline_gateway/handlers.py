"""Gateway commands: create and revoke API keys (used by ``wattline apikey``)."""

from __future__ import annotations

import asyncpg

from wattline_gateway.adapters import api_keys as repo
from wattline_gateway.domain import api_keys


async def create_api_key(
    conn: asyncpg.Connection,
    name: str,
    scopes: list[str],
    rate_limit_per_minute: int = 600,
    channel: str | None = None,
) -> str:
    """Store a new key with *scopes*, bound to sales *channel* if given; return the key itself
    (shown once, never stored)."""
    checked = api_keys.validate_scopes(scopes)
    bound = api_keys.validate_channel(channel)
    new = api_keys.generate()
    await repo.insert(conn, name, new.prefix, new.key_hash, checked, rate_limit_per_minute, bound)
    return new.secret


async def revoke_api_key(conn: asyncpg.Connection, name: str) -> bool:
    """Revoke the key called *name*; False when there is no such active key."""
    return await repo.revoke(conn, name)
