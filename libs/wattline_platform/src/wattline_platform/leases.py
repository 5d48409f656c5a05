"""Leases: one replica at a time runs a job (a relay, a sender, a poller, a billing pass).

A lease is a PostgreSQL *session* advisory lock (``pg_try_advisory_lock``) on the key
:func:`lock_key` of the job's name, taken on one connection that the holder keeps for the
whole of the work. Why that is correct:

* Exclusive: the server grants the key to one session at a time; every other session's
  ``pg_try_advisory_lock`` answers false at once (it never waits, so a replica that is not
  the holder sleeps and tries again instead of holding a connection in a queue).
* Never stuck: the lock lives exactly as long as the session. If the holder crashes, or its
  connection is cut, the server ends the session and the lock with it, so another replica
  takes the job over without anyone cleaning up.
* Therefore the work must stop when the connection is lost: a holder whose connection died
  no longer holds the lease (another replica may already run the job), so it must not go
  on. Doing the work's own queries on the lease's connection (as the relay and the
  webhook fan-out do) makes that automatic: they fail with the connection. Work done on
  other connections must end with the block; a lost lease connection surfaces at the
  latest when the block ends (the unlock fails), and the caller's loop takes it again.
* Released on exit: the block unlocks before the connection goes back to the pool (the
  pool's reset would unlock too, but an explicit unlock keeps a long-lived pooled
  connection from carrying a stale lock if the reset is ever skipped). Session locks
  stack: taking the same key twice on one session needs two unlocks, which is why a
  lease is taken once per block and never nested on one connection.

The keys must never change: two versions of a service running side by side during an
upgrade would both hold "their" lease and both run the job. :func:`lock_key` is a stable
hash of the name for exactly that reason.

Transaction-level locks (``pg_advisory_xact_lock``) are a different thing: they serialise
writers inside one transaction and end with it; they are not leases.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for *name* (never change it; see above)."""
    raw = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    return raw - (1 << 64) if raw >= 1 << 63 else raw


async def try_take(conn: asyncpg.Connection, key: int) -> bool:
    """Take the lease *key* on *conn*'s session unless another session holds it."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))


async def release(conn: asyncpg.Connection, key: int) -> None:
    """Give the lease *key* up (nothing to do when the connection is already gone)."""
    if not conn.is_closed():
        await conn.execute("SELECT pg_advisory_unlock($1)", key)


@asynccontextmanager
async def held_on(conn: asyncpg.Connection, key: int) -> AsyncIterator[bool]:
    """Try to take the lease *key* on *conn* for the block: True inside while this session
    holds it, False when another does. Released when the block ends."""
    ours = await try_take(conn, key)
    try:
        yield ours
    finally:
        if ours:
            await release(conn, key)


@asynccontextmanager
async def held(pool: asyncpg.Pool, name: str) -> AsyncIterator[asyncpg.Connection | None]:
    """A pooled connection of its own that takes the lease *name* for the block: the
    connection (to do the work on, or just to keep) while this replica holds the lease,
    None when another replica does."""
    async with pool.acquire() as conn, held_on(conn, lock_key(name)) as ours:
        yield conn if ours else None
