"""The served log's retention on a real database: the running simulator's own job deletes
the entries older than the retention and leaves the recent ones to GET /sim/served."""

from __future__ import annotations

import asyncio
from typing import Any

from wattline_simulator.adapters import store


async def _served(sim_client: Any) -> list[tuple[str, int, str | None]]:
    response = await sim_client.get("/sim/served")
    assert response.status_code == 200, response.text
    return [(e["category"], e["status"], e["message_id"]) for e in response.json()]


async def test_entries_older_than_the_retention_are_pruned_by_the_running_simulator(
    make_sim: Any,
) -> None:
    async with make_sim(served_log_retention_hours=24, served_log_prune_interval_s=0.1) as sim:
        for message_id in ("old-1", "old-2", "recent-1"):
            await store.log_served(sim.db, "MeasureData", 200, message_id, None)
        await store.log_served(sim.db, "Aggregations", 204, None, None)
        await sim.db.execute(
            "UPDATE served SET served_at = now() - interval '25 hours'"
            " WHERE message_id IN ('old-1', 'old-2')"
        )
        for _ in range(100):
            if len(await _served(sim.client)) == 2:
                break
            await asyncio.sleep(0.05)
        assert await _served(sim.client) == [
            ("MeasureData", 200, "recent-1"),
            ("Aggregations", 204, None),
        ]


async def test_a_retention_of_zero_keeps_the_whole_log(make_sim: Any) -> None:
    async with make_sim(served_log_retention_hours=0, served_log_prune_interval_s=0.1) as sim:
        assert sim.service.background == []  # no pruning job at all
        await store.log_served(sim.db, "MeasureData", 200, "ancient", None)
        await sim.db.execute("UPDATE served SET served_at = now() - interval '400 days'")
        await asyncio.sleep(0.3)
        assert await _served(sim.client) == [("MeasureData", 200, "ancient")]
