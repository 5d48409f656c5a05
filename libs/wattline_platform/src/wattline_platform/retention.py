"""Retention: a leased job that deletes a table's old rows in batches, one replica at a time.

What may be deleted, and when, is the owner's decision (the inbox's rule is in ``inbox.py``);
this module only runs it. Each batch is its own short statement on the lease's connection, so
a writer of the same table never waits behind one long delete, and a replica whose lease
connection died fails at its next batch instead of deleting on beside the new holder (see
``leases``). A crash between batches loses nothing: the next round deletes what is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from wattline_platform import leases
from wattline_platform.asyncutil import sleep_unless
from wattline_platform.logging import get_logger

log = get_logger(__name__)

# Deletes at most ``limit`` rows on the connection given; answers how many went.
DeleteBatch = Callable[[asyncpg.Connection, int], Awaitable[int]]


@dataclass
class Pruner:
    """Runs *delete_batch* until a batch comes back short, every *interval_s*, while this
    replica holds the lease *name*."""

    pool: asyncpg.Pool
    name: str
    delete_batch: DeleteBatch
    batch_size: int = 10_000
    interval_s: float = 3600.0
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Prune every *interval_s* while this replica holds the lease, until ``stop``."""
        while not self._stopping.is_set():
            try:
                async with leases.held(self.pool, self.name) as lease:
                    if lease is not None:
                        await self.prune(lease)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: the next round tries again
                log.warning("prune_failed", job=self.name, error=repr(exc))
            await sleep_unless(self._stopping, self.interval_s)

    def stop(self) -> None:
        """End :meth:`run` (after the batch under way)."""
        self._stopping.set()

    async def prune(self, conn: asyncpg.Connection) -> int:
        """Delete batch after batch on *conn* until one is short; return how many went."""
        total = 0
        while not self._stopping.is_set():
            deleted = await self.delete_batch(conn, self.batch_size)
            total += deleted
            if deleted < self.batch_size:
                break
        if total:
            log.info("pruned", job=self.name, rows=total)
        return total
