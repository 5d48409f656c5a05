"""`wattline settlement run --period 2025-01`: a settlement run from the command line.

The run is the same job the service runs (same code, same tables, same outbox): it is queued
and executed here, with progress printed every second; the running relay publishes its
events. A settlement service running at the same time may take part of the work; every
settlement is made once either way.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

from wattline_platform.db import Database


async def run(dsn: str, period: str, grid_area: str | None, schema: str = "settlement") -> int:
    """Queue and execute the run; print progress; exit code 0 when completed."""
    from wattline_settlement.bootstrap import SettlementSettings, build
    from wattline_settlement.handlers import runs

    service = build(SettlementSettings(database_url=dsn, jobs=False))
    service.db = await Database(dsn, schema, max_size=4).open()
    try:
        run_id = await runs.start_run(service, period, grid_area, "cli")
        assert run_id is not None
        print(f"run {run_id} for {period} queued", flush=True)
        watcher = asyncio.create_task(_watch(service.database, run_id))
        while await runs.work_once(service):
            if await _finished(service.database, run_id):
                break
        while not await _finished(service.database, run_id):  # noqa: ASYNC110 - polls the DB
            await asyncio.sleep(0.5)  # another worker has it: wait for it to finish
        watcher.cancel()
        row = await service.database.fetchrow(
            "SELECT * FROM settlement_run WHERE run_id = $1", run_id
        )
        assert row is not None
        view = runs.run_view(row)
        print(
            f"run {run_id}: {view['status']}, {view['progress']['settled']} settled, "
            f"{view['progress']['blocked']} not settled"
            + (f" ({view['reason']})" if view["reason"] else ""),
            flush=True,
        )
        return 0 if view["status"] == "completed" else 1
    finally:
        await service.database.close()


async def _finished(db: Database, run_id: uuid.UUID) -> bool:
    status = await db.fetchval("SELECT status FROM settlement_run WHERE run_id = $1", run_id)
    return status in ("completed", "blocked", "failed")


async def _watch(db: Database, run_id: uuid.UUID) -> None:
    while True:
        await asyncio.sleep(1.0)
        row = await db.fetchrow(
            "SELECT status, total_items, done_items, settled_items, blocked_items "
            "FROM settlement_run WHERE run_id = $1",
            run_id,
        )
        if row is not None:
            print(
                f"  {row['status']}: {row['done_items']}/{row['total_items']} "
                f"({row['settled_items']} settled, {row['blocked_items']} not)",
                file=sys.stdout,
                flush=True,
            )
