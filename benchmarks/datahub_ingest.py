"""DataHub ingest: one simulated day of RSM-012 for N metering points, simulator -> datahub -> events.

Starts embedded PostgreSQL and Tansu, the simulator and the datahub service as separate
processes (as `wattline up` does), seeds N metering points, advances the simulated clock one day
and measures the time until every generated message is stored, dequeued and its events are
published to the broker. Progress is printed every second.

    uv run python benchmarks/datahub_ingest.py --metering-points 80000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time

import asyncpg
import httpx
from wattline_datahub.bootstrap import SPEC as DATAHUB
from wattline_platform import migrations
from wattline_platform.embedded import Stack, child_preexec, free_port, throwaway_stack, wait_port
from wattline_platform.topics import ensure_topics, load_topics
from wattline_simulator.bootstrap import SPEC as SIMULATOR


async def _status(dsn: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM datahub.inbound_messages) AS stored,
                      (SELECT count(*) FROM datahub.outbox) AS events,
                      (SELECT count(*) FROM datahub.outbox WHERE published_at IS NULL) AS pending"""
        )
    finally:
        await conn.close()
    assert row is not None
    return row["stored"], row["events"], row["pending"]


async def run(args: argparse.Namespace) -> None:
    async with throwaway_stack() as stack:
        procs: list[subprocess.Popen[bytes]] = []
        try:
            await _run(args, stack, procs)
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def _run(
    args: argparse.Namespace, stack: Stack, procs: list[subprocess.Popen[bytes]]
) -> None:
    dsn = stack.dsn
    conn = await asyncpg.connect(dsn)
    for spec in (SIMULATOR, DATAHUB):
        assert spec.db_schema is not None
        await migrations.apply(conn, spec.db_schema, spec.migrations())
    await conn.close()
    await ensure_topics(stack.bootstrap, load_topics())
    sim_port, dh_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "KAFKA_BOOTSTRAP": stack.bootstrap,
        "WATTLINE_SIMULATOR_PORT": str(sim_port),
        "WATTLINE_DATAHUB_PORT": str(dh_port),
        "WATTLINE_DATAHUB_URL": f"http://127.0.0.1:{sim_port}",
        "LOG_LEVEL": "WARNING",
    }
    for module in ("wattline_simulator", "wattline_datahub"):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", module],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=child_preexec(),
            )
        )
    await wait_port("127.0.0.1", sim_port, 30)
    await wait_port("127.0.0.1", dh_port, 30)
    print(
        f"stack up: postgres :{stack.pg_port}, tansu :{stack.kafka_port}, simulator :{sim_port}, "
        f"datahub :{dh_port}",
        flush=True,
    )

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sim_port}", timeout=600) as sim:
        t0 = time.perf_counter()
        await sim.post("/sim/seed", json={"metering_points": args.metering_points, "seed": 1})
        print(
            f"seeded {args.metering_points} metering points in {time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        # Day one also carries the one-off charges and 320,000 charge links: ingest it
        # first, then measure day two, a plain day of RSM-012 (with day one's corrections).
        t0 = time.perf_counter()
        await sim.post("/sim/clock", json={"advance_days": 1})
        first = sum((await sim.get("/sim/generated")).json()["documents"].values())
        while (await _status(dsn))[0] < first or (await sim.get("/sim/queues")).json():
            await asyncio.sleep(1.0)
        print(
            f"day one (with charges and links) ingested in {time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        stored_before, events_before, _ = await _status(dsn)
        t1 = time.perf_counter()
        await sim.post("/sim/clock", json={"advance_days": 1})
        generated = (await sim.get("/sim/generated")).json()
        messages = sum(generated["documents"].values()) - first
        print(
            f"simulator generated day two ({messages} documents) in "
            f"{time.perf_counter() - t1:.1f}s",
            flush=True,
        )
        while True:
            await asyncio.sleep(1.0)
            stored, events, pending = await _status(dsn)
            stored, events = stored - stored_before, events - events_before
            elapsed = time.perf_counter() - t1
            print(
                f"  {elapsed:6.1f}s stored {stored:>6}/{messages} messages, {events:>7} events, "
                f"{pending:>6} unpublished",
                flush=True,
            )
            if stored >= messages and pending == 0 and not (await sim.get("/sim/queues")).json():
                break
    total = time.perf_counter() - t1
    print(
        f"\nRESULT day two for {args.metering_points} metering points: {messages} messages, "
        f"{events} events stored and published in {total:.1f}s "
        f"({events / total:,.0f} metering-point-days/s) from clock advance to the last event"
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metering-points", type=int, default=80_000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
