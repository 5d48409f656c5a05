"""Scale-out: one month settled by N settlement replicas sharing the run through Postgres.

Starts embedded PostgreSQL on free ports, applies settlement's migrations and loads a month
for ``--metering-points`` metering points with ``settlement_80k``'s loaders (master data,
charges and links, a spot product, contracts and supply periods, spot prices, metering data).
Then, for each N of ``--replicas`` (1, 2, 4), it empties the run's tables, queues the month's
run and starts N replica processes (this script with ``--replica``: the settlement's run
worker, ``handlers.runs.drain`` with one chunk worker each, against the one database). The
replicas share the run through its chunks (``FOR UPDATE SKIP LOCKED``, see
``handlers/runs.work_once``). In the round ``--kill-round`` one replica is killed with
SIGKILL as soon as the run has settled its first chunk; the others take its chunk over.

Checks per round: the run completed; every supply period settled once (one ``settlement``
row each, none missing); one ``settlement.completed`` outbox event per settlement (distinct
settlement ids, one per metering point); every chunk done by a live replica. Reported: the
wall time per N, the speed-up against N = 1 (2 cores here: at most about 2x, PostgreSQL
shares them) and the extrapolation to 1,000,000 metering points.

``--part ingest|all`` also runs ``benchmarks/scale_out_ingest.py`` (the datahub side, helper
"ingest"'s) when it is there, with the same ``--smoke``.

    uv run python benchmarks/scale_out.py --smoke            # 300 points, N = 1, 2, one kill
    uv run python benchmarks/scale_out.py --metering-points 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import numpy as np
from _bench import Checks, parse_args
from settlement_80k import (
    SCHEMA,
    Counter,
    LoadTimes,
    gsrns,
    load_charges,
    load_master_data,
    load_metering_data,
    load_portfolio,
    month_period,
    spot_file,
)
from wattline_platform import migrations
from wattline_platform.db import Database
from wattline_platform.embedded import throwaway_stack
from wattline_platform.logging import configure_logging
from wattline_settlement.bootstrap import SPEC as SETTLEMENT
from wattline_settlement.bootstrap import SettlementSettings, build
from wattline_settlement.handlers import pricing, runs

HERE = Path(__file__).resolve().parent
TARGET = 1_000_000


async def replica(dsn: str, chunk: int) -> None:
    """One settlement replica's run worker until no run work is left."""
    configure_logging("settlement-replica", level="WARNING")
    service = build(SettlementSettings(database_url=dsn, jobs=False))
    service.db = await Database(dsn, SCHEMA, max_size=2).open()
    try:
        await runs.drain(service, workers=1, chunk=chunk)
    finally:
        await service.database.close()


async def load(dsn: str, n: int, month: str, resolution: str, seed: int) -> None:
    conn = await asyncpg.connect(dsn)
    await migrations.apply(conn, SCHEMA, SETTLEMENT.migrations())
    await conn.close()
    period = month_period(month)
    db = await Database(dsn, SCHEMA, max_size=2).open()
    try:
        rng = np.random.default_rng(seed)
        points = gsrns(n)
        areas = await load_master_data(db, points, resolution, rng)
        await load_charges(db, period, points, areas, Counter("links", n))
        await load_portfolio(db, period, points, rng)
        await pricing.import_spot_file(db, spot_file(period, rng), source="benchmark")
        days = Counter("metering-point-days", n * (period.end - period.start).days)
        await load_metering_data(
            db, points, period, resolution, seed + 1, 5_000, days, LoadTimes(steps={})
        )
        async with db.connection() as c:
            await c.execute("VACUUM (ANALYZE)")
    finally:
        await db.close()


async def one_round(
    dsn: str, args: argparse.Namespace, n: int, kill: bool, checks: Checks
) -> float:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        await conn.execute(
            """TRUNCATE settlement_correction, settlement, settlement_run_chunk,
                        settlement_blocked, settlement_run, outbox"""
        )
        run_id = await conn.fetchval(
            """INSERT INTO settlement_run (run_id, billing_period, trigger, status)
               VALUES (gen_random_uuid(), $1, 'cli', 'queued') RETURNING run_id""",
            args.month,
        )
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--replica", dsn, "--chunk", str(args.chunk)],
                cwd=HERE.parent,
            )
            for _ in range(n)
        ]
        killed = None
        while any(p.poll() is None for p in procs):
            await asyncio.sleep(0.02)
            if kill and killed is None:
                done = await conn.fetchval(
                    "SELECT count(*) FROM settlement_run_chunk WHERE done_at IS NOT NULL"
                )
                if done:
                    killed = procs[0]
                    os.kill(killed.pid, signal.SIGKILL)
                    print(f"  killed replica pid {killed.pid} (SIGKILL) mid-run", flush=True)
        wall = time.perf_counter() - started
        row = await conn.fetchrow("SELECT * FROM settlement_run WHERE run_id = $1", run_id)
        stats = await conn.fetchrow(
            """SELECT count(*) AS n, count(DISTINCT supply_period_id) AS sp,
                      count(DISTINCT gsrn) AS g FROM settlement"""
        )
        events = await conn.fetchrow(
            """SELECT count(*) AS n, count(DISTINCT envelope::jsonb #>> '{payload,settlement_id}')
                      AS ids, count(DISTINCT key) AS keys
               FROM outbox WHERE topic = 'settlement.completed'"""
        )
        chunks = await conn.fetchrow(
            """SELECT count(*) AS n, count(*) FILTER (WHERE done_at IS NULL) AS todo,
                      count(DISTINCT done_by) AS workers FROM settlement_run_chunk"""
        )
    finally:
        await conn.close()
    points = args.metering_points
    assert row is not None and stats is not None and events is not None and chunks is not None
    print(
        f"  N={n}: {wall:.1f}s, {points / wall:,.0f} metering points/s; run {row['status']}, "
        f"{row['settled_items']:,} settled; {chunks['n']} chunks by {chunks['workers']} "
        f"replica(s)",
        flush=True,
    )
    label = f"N={n}" + (" (one replica killed)" if kill else "")
    checks.check(row["status"] == "completed", f"{label}: the run completed ({row['status']})")
    checks.check(
        stats["n"] == stats["sp"] == stats["g"] == points,
        f"{label}: every supply period settled once: {stats['n']:,} settlements, "
        f"{stats['sp']:,} supply periods, of {points:,}",
    )
    checks.check(
        events["n"] == events["ids"] == events["keys"] == points,
        f"{label}: one settlement.completed per settlement: {events['n']:,} events, "
        f"{events['ids']:,} settlement ids",
    )
    checks.check(chunks["todo"] == 0, f"{label}: no chunk left to do ({chunks['todo']})")
    if kill:
        checks.check(
            killed is not None and killed.returncode == -signal.SIGKILL,
            f"{label}: a replica was killed mid-run and the others took its chunks over",
        )
    return wall


async def run(args: argparse.Namespace) -> int:
    configure_logging("scale-out-bench", level="WARNING")
    checks = Checks()
    times: dict[int, float] = {}
    if args.part in ("settlement", "all"):
        async with throwaway_stack(fast_db=args.fast_db) as stack:
            t0 = time.perf_counter()
            await load(stack.dsn, args.metering_points, args.month, args.resolution, args.seed)
            print(
                f"loaded {args.metering_points:,} metering points {args.resolution}, "
                f"{args.month}, in {time.perf_counter() - t0:.1f}s",
                flush=True,
            )
            for n in args.replicas:
                times[n] = await one_round(stack.dsn, args, n, n == args.kill_round, checks)
        base = times[args.replicas[0]]
        print(
            f"\nRESULT scale-out settlement, {args.metering_points:,} metering points "
            f"{args.resolution}, chunks of {args.chunk}, {os.cpu_count()} cores"
        )
        for n, wall in times.items():
            rate = args.metering_points / wall
            print(
                f"  N={n}: {wall:.1f}s, speed-up {base / wall:.2f}x; {TARGET:,} metering "
                f"points at this rate: ~{TARGET / rate:,.0f}s"
            )
    ingest = HERE / "scale_out_ingest.py"
    if args.part in ("ingest", "all"):
        if ingest.exists():
            extra = ["--smoke"] if args.smoke else []
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(ingest), *extra, cwd=HERE.parent
            )
            code = await proc.wait()
            checks.check(code == 0, f"scale_out_ingest.py exited {code}")
        else:
            print("RESULT scale-out ingest: benchmarks/scale_out_ingest.py is not there yet")
    return checks.exit_code()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--replica":
        chunk = int(sys.argv[sys.argv.index("--chunk") + 1]) if "--chunk" in sys.argv else 1000
        asyncio.run(replica(sys.argv[2], chunk))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metering-points", type=int, default=20_000)
    parser.add_argument("--resolution", choices=("PT1H", "PT15M"), default="PT1H")
    parser.add_argument("--month", default="2025-01")
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--kill-round", type=int, default=2, help="N whose round kills one")
    parser.add_argument("--part", choices=("settlement", "ingest", "all"), default="settlement")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--fast-db", action="store_true")
    args = parse_args(
        parser, {"metering_points": 300, "chunk": 30, "replicas": [1, 2], "fast_db": True}
    )
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
