"""SQL for leases: session advisory locks that let one replica at a time run a job."""

from __future__ import annotations

import asyncpg
from wattline_platform.outbox import lock_key


async def try_take(conn: asyncpg.Connection, name: str) -> bool:
    """Take the lease *name* on *conn* unless another session holds it; True when taken.

    A session lock: held while *conn* stays open, released when it goes back to the pool
    (asyncpg's reset unlocks all) or dies, so a crashed replica's lease passes on by itself.
    """
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)))
