"""Leases against real PostgreSQL: one session holds a job's lease; releasing passes it on."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from wattline_platform import leases, outbox
from wattline_platform.leases import lock_key


async def test_a_second_holder_is_refused_until_the_first_lets_go(postgres_dsn: str) -> None:
    pool = await asyncpg.create_pool(postgres_dsn, min_size=1, max_size=4)
    try:
        async with leases.held(pool, "test-lease-job") as first:
            assert first is not None
            async with leases.held(pool, "test-lease-job") as second:
                assert second is None  # another session holds it
            async with leases.held(pool, "test-lease-other-job") as other:
                assert other is not None  # another job's lease is another lock
            held_by = await first.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid() AND granted"
            )
            assert held_by == 1
        async with leases.held(pool, "test-lease-job") as again:
            assert again is not None  # released at the end of the block: another takes it
    finally:
        await pool.close()


async def test_a_lost_connection_frees_the_lease(postgres_dsn: str) -> None:
    first = await asyncpg.connect(postgres_dsn)
    second = await asyncpg.connect(postgres_dsn)
    try:
        key = lock_key("test-lease-crash")
        assert await leases.try_take(first, key) is True
        assert await leases.try_take(second, key) is False
        first.terminate()  # the holder's session dies: the server drops its lock
        await leases.release(first, key)  # nothing to release on a dead connection
        for _ in range(100):  # the server ends the session once it sees the socket closed
            if await leases.try_take(second, key):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the dead session's lease never passed on")
    finally:
        await second.close()


async def test_a_holder_learns_its_lease_is_lost_when_its_session_is_terminated(
    postgres_dsn: str,
) -> None:
    holder = await asyncpg.connect(postgres_dsn)
    admin = await asyncpg.connect(postgres_dsn)
    try:
        key = lock_key("test-lease-terminated")
        assert await leases.try_take(holder, key) is True
        await leases.ensure_held(holder, key)  # held: no error
        await leases.Lease(holder, key).ensure_held()
        with pytest.raises(leases.LeaseLost):  # a key this session does not hold
            await leases.ensure_held(holder, lock_key("test-lease-never-taken"))
        pid = holder.get_server_pid()
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid) is True
        with pytest.raises(leases.LeaseLost):  # the round trip fails with the session
            await leases.ensure_held(holder, key)
        assert holder.is_closed()
        await leases.release(holder, key)  # nothing to release on a dead connection
    finally:
        holder.terminate()
        await admin.close()


async def test_a_released_lease_is_lost_to_its_former_holder(postgres_dsn: str) -> None:
    conn = await asyncpg.connect(postgres_dsn)
    try:
        key = lock_key("test-lease-released")
        assert await leases.try_take(conn, key) is True
        await leases.release(conn, key)
        with pytest.raises(leases.LeaseLost):
            await leases.ensure_held(conn, key)
    finally:
        await conn.close()


async def test_a_transaction_lock_is_held_until_the_transaction_ends(postgres_dsn: str) -> None:
    first = await asyncpg.connect(postgres_dsn)
    second = await asyncpg.connect(postgres_dsn)
    try:
        key = lock_key("test-xact-lock")
        try_exclusive = "SELECT pg_try_advisory_xact_lock($1)"
        try_shared = "SELECT pg_try_advisory_xact_lock_shared($1)"
        async with first.transaction():
            await leases.xact_lock(first, key)
            async with second.transaction():
                assert await second.fetchval(try_shared, key) is False
        async with second.transaction():  # the first transaction ended: so did its lock
            assert await second.fetchval(try_exclusive, key) is True
        async with first.transaction():
            await leases.xact_lock(first, key, shared=True)
            async with second.transaction():
                assert await second.fetchval(try_shared, key) is True  # shared with shared
                assert await second.fetchval(try_exclusive, key) is False
    finally:
        await first.close()
        await second.close()


def test_lock_keys_never_change() -> None:
    # Two versions of a service side by side during an upgrade must contend for the same key.
    # The values of before the lease moved to this module (outbox.lock_key, same hash).
    assert outbox.lock_key is lock_key
    assert lock_key("datahub-sender") == 8070401341931925314
    assert lock_key("invoicing-billing-job") == -4369589736858928301
    assert lock_key("outbox-relay:invoicing") == -4086923593878846376
