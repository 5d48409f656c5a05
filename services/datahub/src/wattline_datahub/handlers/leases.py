"""Leases: one replica at a time runs a job (the sender, a category's poller)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from wattline_platform import leases
from wattline_platform.db import Database
from wattline_platform.leases import Lease, LeaseLost

__all__ = ["Lease", "LeaseLost", "held"]


@asynccontextmanager
async def held(database: Database, name: str) -> AsyncIterator[Lease | None]:
    """A connection of its own that takes the lease *name*: the :class:`Lease` inside while
    this replica holds it (check it with ``ensure_held`` before each step: the work runs on
    other connections, which do not notice the lease's dying), None when another does. The
    lease ends when the block does (see :mod:`wattline_platform.leases`)."""
    async with leases.held(database.pool, name) as conn:
        yield None if conn is None else Lease(conn, leases.lock_key(name))
