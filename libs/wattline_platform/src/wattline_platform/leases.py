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
  other connections does not notice: a loop that steps on them checks the lease with
  :func:`ensure_held` (a round trip on the lease's own connection) before every step and
  stops with :class:`LeaseLost` when the session is gone, so at most the step already
  under way overlaps the next holder's work. A bounded block that checks nothing learns
  it at the latest when it ends (the unlock fails), and the caller's loop takes it again.
* Released on exit: the block unlocks before the connection goes back to the pool (the
  pool's reset would unlock too, but an explicit unlock keeps a long-lived pooled
  connection from carrying a stale lock if the reset is ever skipped). Session locks
  stack: taking the same key twice on one session needs two unlocks, which is why a
  lease is taken once per block and never nested on one connection.

The keys must never change: two versions of a service running side by side during an
upgrade would both hold "their" lease and both run the job. :func:`lock_key` is a stable
hash of the name for exactly that reason.

Transaction-level locks (``pg_advisory_xact_lock``) are a different thing: they serialise
writers inside one transaction and end with it; they are not leases. :func:`xact_lock` takes
one, so no service spells the SQL itself.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

# A bigint advisory key shows in pg_locks as classid (its high 32 bits) and objid (its low
# 32 bits), with objsubid 1 (the two-int4 form uses 2).
_HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
    " AND pid = pg_backend_pid() AND granted AND objsubid = 1"
    " AND classid::bigint = $1 AND objid::bigint = $2)"
)


class LeaseLost(Exception):
    """The lease is no longer this session's: its connection died (so the server ended
    the session and the lock with it, and another replica may hold it now) or it was
    released. The work done under it must stop."""


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


async def ensure_held(conn: asyncpg.Connection, key: int) -> None:
    """Raise :class:`LeaseLost` unless *conn*'s session still holds the lease *key*: one
    round trip on *conn*, so a dead or cut connection fails here rather than later."""
    try:
        ours = await conn.fetchval(_HELD, (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the connection (or its session) is gone: so is the lease
        raise LeaseLost(f"lease {key}: its connection failed ({exc!r})") from exc
    if not ours:
        raise LeaseLost(f"lease {key}: this session no longer holds it")


async def xact_lock(tx: asyncpg.Connection, key: int, *, shared: bool = False) -> None:
    """Wait for the transaction-level advisory lock *key* and hold it until *tx*'s
    transaction ends (exclusive, or *shared* with the other shared holders). Not a lease:
    it serialises writers inside transactions; outside one it would end at once."""
    if shared:
        await tx.execute("SELECT pg_advisory_xact_lock_shared($1)", key)
    else:
        await tx.execute("SELECT pg_advisory_xact_lock($1)", key)


@dataclass(frozen=True)
class Lease:
    """A lease this replica took: the connection holding it and its key."""

    conn: asyncpg.Connection
    key: int

    async def ensure_held(self) -> None:
        """Raise :class:`LeaseLost` unless it is still held (see :func:`ensure_held`)."""
        await ensure_held(self.conn, self.key)


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
