"""A hung replica's transaction does not hold its row locks for ever (wattline_platform.db)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from wattline_platform.db import SESSION_LIMITS, Database


async def test_every_service_connection_carries_the_session_limits(schema_db: Database) -> None:
    async with schema_db.connection() as conn:
        assert await conn.fetchval("SHOW idle_in_transaction_session_timeout") == "5min"
        assert await conn.fetchval("SHOW tcp_keepalives_idle") == "60"
        assert await conn.fetchval("SHOW tcp_keepalives_count") == "6"


SKIPPING = "SELECT count(*) FROM (SELECT 1 FROM public.chunk_lock_test FOR UPDATE SKIP LOCKED) t"


async def test_a_session_idle_in_its_transaction_is_ended_and_its_lock_freed(
    postgres_dsn: str,
) -> None:
    # The limit as the pool sets it, shortened to a second for the test.
    settings = {**SESSION_LIMITS, "idle_in_transaction_session_timeout": "1s"}
    hung = await asyncpg.connect(postgres_dsn, server_settings=settings)
    other = await asyncpg.connect(postgres_dsn)
    try:
        await other.execute("CREATE TABLE IF NOT EXISTS public.chunk_lock_test (id int)")
        await other.execute(
            "TRUNCATE public.chunk_lock_test; INSERT INTO public.chunk_lock_test VALUES (1)"
        )
        tx = hung.transaction()
        await tx.start()
        await hung.execute("SELECT * FROM public.chunk_lock_test FOR UPDATE")
        # A worker claiming the row skips it while the hung one holds it ...
        assert await other.fetchval(SKIPPING) == 0
        # ... and takes it once the server has ended the idle transaction.
        await asyncio.sleep(2)
        assert await other.fetchval(SKIPPING) == 1
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
            await hung.execute("SELECT 1")
    finally:
        hung.terminate()
        await other.execute("DROP TABLE IF EXISTS public.chunk_lock_test")
        await other.close()
