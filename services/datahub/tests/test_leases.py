"""One replica at a time runs a job: a lease held on a connection of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from wattline_datahub.handlers import leases
from wattline_datahub.jobs import while_leased

if TYPE_CHECKING:
    from conftest import Rig


async def test_a_lease_is_held_by_one_session_until_its_block_ends(rig: Rig) -> None:
    async with leases.held(rig.service.database, "datahub-sender") as first:
        async with leases.held(rig.service.database, "datahub-sender") as second:
            assert (first, second) == (True, False)
        async with leases.held(rig.service.database, "datahub-poll:MeasureData") as other:
            assert other is True  # another job's lease is another lock
    async with leases.held(rig.service.database, "datahub-sender") as again:
        assert again is True  # back in the pool, the connection holds nothing


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
