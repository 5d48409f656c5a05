"""Leases: one replica at a time runs a job (the sender, a category's poller)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from wattline_platform.service import Service

from wattline_datahub.adapters import leases


@asynccontextmanager
async def held(service: Service, name: str) -> AsyncIterator[bool]:
    """A connection of its own that takes the lease *name*: True inside while this replica
    holds it, False when another does. The lease ends when the block does."""
    async with service.database.connection() as conn:
        yield await leases.try_take(conn, name)
