"""Leases: one replica at a time runs a job (the sender, a category's poller)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from wattline_platform import leases
from wattline_platform.db import Database


@asynccontextmanager
async def held(database: Database, name: str) -> AsyncIterator[bool]:
    """A connection of its own that takes the lease *name*: True inside while this replica
    holds it, False when another does. The lease ends when the block does (see
    :mod:`wattline_platform.leases`)."""
    async with leases.held(database.pool, name) as conn:
        yield conn is not None
