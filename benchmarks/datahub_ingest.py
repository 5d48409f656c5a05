"""DataHub ingest: one simulated day of RSM-012 for N metering points, simulator -> datahub -> events.

Starts embedded PostgreSQL and Tansu, the simulator and the datahub service as separate
processes (as `wattline up` does), seeds N metering points, advances the simulated clock one day
and measures the time until every generated message is stored, dequeued and its events are
published to the broker. Progress is printed every second.

Beside the figure, its floor in the same run: the simulator's own time to generate the day
(included in the span). The checks: exactly the generated documents stored (none lost, none
twice), every event published, the simulator's queues empty; the exit code is non-zero when
one fails or the ingest does not finish within ``--timeout``.

    uv run python benchmarks/datahub_ingest.py --metering-points 80000
    uv run python benchmarks/datahub_ingest.py --smoke       # 20 metering points, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from _bench import Checks, bench_identity, machine, parse_args
from wattline_datahub.bootstrap import SPEC as DATAHUB
from wattline_platform import migrations
from wattline_platform.embedded import Stack, child_preexec, free_port, throwaway_stack, wait_port
from wattline_platform.topics import ensure_topics, load_topics
from wattline_simulator.bootstrap import SPEC as SIMULATOR

CLIENT_ID = "wattline-benchmark"
CLIENT_SECRET = "benchmark-secret"


class TimedOut(Exception):
    """The ingest did not finish within --timeout."""


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


def print_logs(logs: Path) -> None:
    """The services' last words, to see why a run failed."""
    for log in sorted(logs.glob("*.log")):
        print(f"--- last lines of {log.name} ---\n{log.read_text()[-3000:]}", flush=True)


async def run(args: argparse.Namespace) -> int:
    async with throwaway_stack(fast_db=args.fast_db) as stack:
        procs: list[subprocess.Popen[bytes]] = []
        logs = Path(tempfile.mkdtemp(prefix="wattline-datahub-ingest-"))
        try:
            return await _run(args, stack, procs, logs)
        except (TimedOut, TimeoutError) as exc:
            print(f"\nCHECK FAILED: {exc}", flush=True)
            print_logs(logs)
            return 1
        except Exception:
            print_logs(logs)
            raise
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def _run(
    args: argparse.Namespace, stack: Stack, procs: list[subprocess.Popen[bytes]], logs: Path
) -> int:
    dsn = stack.dsn
    conn = await asyncpg.connect(dsn)
    for spec in (SIMULATOR, DATAHUB):
        assert spec.db_schema is not None
        await migrations.apply(conn, spec.db_schema, spec.migrations())
    await conn.close()
    await ensure_topics(stack.bootstrap, load_topics())
    sim_port, dh_port = free_port(), free_port()
    identity_key, signed = bench_identity()
    env = {
        **os.environ,
        "IDENTITY_KEY": identity_key,
        "DATABASE_URL": dsn,
        "KAFKA_BOOTSTRAP": stack.bootstrap,
        "WATTLINE_SIMULATOR_PORT": str(sim_port),
        "WATTLINE_DATAHUB_PORT": str(dh_port),
        "WATTLINE_DATAHUB_URL": f"http://127.0.0.1:{sim_port}",
        # The simulator's token endpoint, with credentials both sides are given here.
        "WATTLINE_DATAHUB_TOKEN_URL": f"http://127.0.0.1:{sim_port}/oauth2/v2.0/token",
        "WATTLINE_DATAHUB_CLIENT_ID": CLIENT_ID,
        "WATTLINE_DATAHUB_CLIENT_SECRET": CLIENT_SECRET,
        "WATTLINE_SIMULATOR_CLIENT_ID": CLIENT_ID,
        "WATTLINE_SIMULATOR_CLIENT_SECRET": CLIENT_SECRET,
        "LOG_LEVEL": "WARNING",
    }
    t_start = time.perf_counter()
    for module in ("wattline_simulator", "wattline_datahub"):
        with (logs / f"{module}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", module],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=child_preexec(),
                )
            )
    await wait_port("127.0.0.1", sim_port, 30)
    await wait_port("127.0.0.1", dh_port, 30)
    print(
        f"stack up: postgres :{stack.pg_port}, tansu :{stack.kafka_port}, simulator :{sim_port}, "
        f"datahub :{dh_port} (up in {time.perf_counter() - t_start:.1f}s)",
        flush=True,
    )

    deadline = time.perf_counter() + args.timeout

    def in_time(what: str) -> None:
        if time.perf_counter() > deadline:
            raise TimedOut(f"{what} not done within --timeout {args.timeout:g}s")

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{sim_port}", timeout=600, auth=signed
    ) as sim:
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
            in_time("day one's ingest")
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
        generate_s = time.perf_counter() - t1
        print(
            f"simulator generated day two ({messages} documents) in {generate_s:.1f}s",
            flush=True,
        )
        while True:
            in_time("day two's ingest")
            await asyncio.sleep(1.0)
            stored, events, pending = await _status(dsn)
            stored, events = stored - stored_before, events - events_before
            elapsed = time.perf_counter() - t1
            print(
                f"  {elapsed:6.1f}s stored {stored:>6}/{messages} messages, {events:>7} events, "
                f"{pending:>6} unpublished",
                flush=True,
            )
            queues = (await sim.get("/sim/queues")).json()
            if stored >= messages and pending == 0 and not queues:
                break
        total = time.perf_counter() - t1
        await asyncio.sleep(1.0)  # let a late duplicate (if any) land before judging
        stored_all, events_all, pending = await _status(dsn)
        queues = (await sim.get("/sim/queues")).json()
        generated_all = sum((await sim.get("/sim/generated")).json()["documents"].values())
    print(
        f"\nRESULT day two for {args.metering_points} metering points: {messages} messages, "
        f"{events} events stored and published in {total:.1f}s "
        f"({events / total:,.0f} metering-point-days/s) from clock advance to the last event"
    )
    print(
        f"  floor: the simulator generating the day (inside that span) {generate_s:.1f}s; "
        f"the ingest after it {total - generate_s:.1f}s"
    )
    checks = Checks()
    checks.check(
        stored_all == generated_all,
        f"every generated document stored once: {stored_all} stored of {generated_all} generated",
    )
    checks.check(
        events > 0 and pending == 0,
        f"every event published: {events_all} events, {pending} unpublished",
    )
    checks.check(not queues, f"the simulator's queues are empty: {queues or 'yes'}")
    print(machine(f"fsync {'off' if args.fast_db else 'on'}"))
    return checks.exit_code()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metering-points", type=int, default=80_000)
    parser.add_argument("--fast-db", action="store_true", help="fsync off (as in tests)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the whole ingest")
    args = parse_args(parser, {"metering_points": 20, "fast_db": True, "timeout": 120})
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
