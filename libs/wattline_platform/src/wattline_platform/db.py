"""asyncpg pool bound to one service schema, and a transaction helper."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

# asyncpg's Connection is generic in its stubs; services only need the plain type.
Connection = asyncpg.Connection

# A replica that hangs, or vanishes from the network, inside a transaction would hold its row
# locks (a settlement chunk, a claimed DataHub message) and keep the others from taking its
# work over. PostgreSQL ends such a session: one idle in a transaction for 5 minutes (no
# transaction here waits on anything but the database for more than seconds), and one whose
# client stops answering TCP keepalives (after about 2 minutes). Leases are session locks of
# connections outside a transaction: a live replica's stay.
SESSION_LIMITS = {
    "idle_in_transaction_session_timeout": "300s",
    "tcp_keepalives_idle": "60",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "6",
}


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Database:
    """A connection pool whose connections see exactly one schema (``search_path``)."""

    def __init__(self, dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.dsn = dsn
        self.schema = schema
        self.min_size = min_size
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        """The open pool; ``open`` must have been awaited."""
        if self._pool is None:
            raise RuntimeError("database pool is not open")
        return self._pool

    async def open(self) -> Database:
        """Open the pool with ``search_path`` set to the schema."""
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.min_size,
                max_size=self.max_size,
                server_settings={
                    "search_path": self.schema,
                    "application_name": f"wattline-{self.schema}",
                    **SESSION_LIMITS,
                },
                init=_init_connection,
            )
        return self

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """Yield a connection inside a transaction: committed on exit, rolled back on error."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """Yield a pooled connection without an explicit transaction."""
        async with self.pool.acquire() as conn:
            yield conn

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Run a read query on a pooled connection."""
        async with self.pool.acquire() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """Run a read query returning at most one row."""
        async with self.pool.acquire() as conn:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
            return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """Run a read query returning one value."""
        async with self.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        """Run one statement in its own transaction; returns the status tag."""
        async with self.pool.acquire() as conn:
            status: str = await conn.execute(sql, *args)
            return status

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
