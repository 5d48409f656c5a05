"""One replica at a time runs a job: a lease held on a connection of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from wattline_datahub.handlers import leases
from wattline_datahub.jobs import while_leased
from wattline_platform.leases import lock_key

if TYPE_CHECKING:
    from conftest import Rig


async def test_a_lease_is_held_by_one_session_until_its_block_ends(rig: Rig) -> None:
    async with leases.held(rig.service.database, "datahub-sender") as first:
        async with leases.held(rig.service.database, "datahub-sender") as second:
            assert first is not None and second is None
        async with leases.held(rig.service.database, "datahub-poll:MeasureData") as other:
            assert other is not None  # another job's lease is another lock
    async with leases.held(rig.service.database, "datahub-sender") as again:
        assert again is not None  # back in the pool, the connection holds nothing


async def test_while_leased_runs_its_step_on_one_replica_only(rig: Rig) -> None:
    calls = {"a": 0, "b": 0}
    first_ran = asyncio.Event()

    def step(name: str) -> Callable[[], Awaitable[bool]]:
        async def run() -> bool:
            calls[name] += 1
            first_ran.set()
            await asyncio.sleep(0.01)  # the work's own I/O
            return True  # always work to do: never idle

        return run

    a = asyncio.create_task(while_leased(rig.dh, "test-job", step("a"), failed="x"))
    await asyncio.wait_for(first_ran.wait(), 10)
    b = asyncio.create_task(while_leased(rig.dh, "test-job", step("b"), failed="x"))
    await asyncio.sleep(0.5)
    a.cancel()
    b.cancel()
    await asyncio.gather(a, b, return_exceptions=True)
    assert calls["a"] > 10 and calls["b"] == 0


async def holder_of(rig: Rig, key: int) -> int | None:
    """The backend pid of the session holding the lease *key*, if any."""
    pid = await rig.service.database.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2",
        (key >> 32) & 0xFFFFFFFF,
        key & 0xFFFFFFFF,
    )
    return None if pid is None else int(pid)


async def test_while_leased_stops_stepping_when_its_lease_connection_dies(rig: Rig) -> None:
    # The step runs on other connections, so only a check of the lease's own connection
    # notices that its session is gone (and another replica may hold the lease by now).
    calls = 0
    stepping = asyncio.Event()

    async def step() -> bool:
        nonlocal calls
        calls += 1
        stepping.set()
        await asyncio.sleep(0.01)
        return True

    key = lock_key("test-job-lost")
    loop = asyncio.create_task(while_leased(rig.dh, "test-job-lost", step, failed="x"))
    try:
        await asyncio.wait_for(stepping.wait(), 10)
        pid = await holder_of(rig, key)
        assert pid is not None
        assert await rig.service.database.fetchval("SELECT pg_terminate_backend($1)", pid)
        before = calls
        await asyncio.sleep(0.5)  # the loop waits 1 s before it takes the lease again
        assert calls - before <= 1  # at most the step already under way
        stepping.clear()
        await asyncio.wait_for(stepping.wait(), 10)  # then it takes the lease again
        holder = await holder_of(rig, key)
        assert holder is not None and holder != pid  # on a new session
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
