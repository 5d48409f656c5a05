"""Storage of settlement's metering data: bytes per metering-point day and per month on disk.

Starts embedded PostgreSQL on a free port, applies settlement's migrations and loads one month
of household data (evening peak, noise, ~1 % estimated hours) for N metering points at PT1H
(January 2025) and at PT15M (March 2025, with its 23-hour day) through settlement's own COPY
loader (``metering_data.store``), in batches of one DataHub message each. It reports, per
resolution, the month partition's size with its indexes and TOAST plus the source table, per
metering-point day and per month, beside the floor: the raw values, 4 bytes a position. The
check: a bulk read of the month gives back every value loaded (their sum) and none missing.

    uv run python benchmarks/storage.py --metering-points 80000
    uv run python benchmarks/storage.py --smoke     # 50 metering points, seconds

Goal: the month on disk <= 2x its raw values.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import date, timedelta

import asyncpg
import numpy as np
from _bench import Checks, machine, parse_args
from wattline_platform import migrations
from wattline_platform.db import Database
from wattline_platform.embedded import throwaway_stack
from wattline_platform.identifiers import gsrn_with_check_digit
from wattline_settlement.adapters import metering_data
from wattline_settlement.adapters.metering_data import MeasureDay
from wattline_settlement.bootstrap import SPEC as SETTLEMENT
from wattline_settlement.domain.metering import positions
from wattline_settlement.domain.model import Resolution

BATCH = 2_000  # days per DataHub message and per transaction
MONTHS: dict[Resolution, date] = {"PT1H": date(2025, 1, 1), "PT15M": date(2025, 3, 1)}


def day_values(n: int, rng: np.random.Generator, scale: float, per_hour: int) -> list[int]:
    hours = np.arange(n) / per_hour
    wh = scale * (250 + 400 * np.exp(-((hours - 18) ** 2) / 8)) * rng.uniform(0.6, 1.4, n)
    return [int(v) for v in (wh / per_hour).round()]


async def load(db: Database, points: list[str], resolution: Resolution) -> tuple[int, int, int]:
    """Load the month; return (metering-point days, positions, sum of Wh)."""
    first = MONTHS[resolution]
    end = (first + timedelta(days=32)).replace(day=1)
    per_hour = 4 if resolution == "PT15M" else 1
    rng = np.random.default_rng(7)
    scales = rng.uniform(0.5, 2.0, len(points))
    days = total_positions = total_wh = 0
    started = last = time.perf_counter()
    message = str(uuid.uuid4())
    pending: list[MeasureDay] = []

    async def flush() -> None:
        nonlocal message
        async with db.transaction() as tx:
            await metering_data.store(tx, pending)
        pending.clear()
        message = str(uuid.uuid4())

    day = first
    while day < end:
        n = positions(day, resolution)
        for i, gsrn in enumerate(points):
            wh = day_values(n, rng, float(scales[i]), per_hour)
            estimated = rng.random(n) < 0.01
            pending.append(
                MeasureDay(
                    gsrn=gsrn,
                    local_date=day,
                    resolution=resolution,
                    wh=tuple(wh),
                    qualities=tuple(3 if e else 4 for e in estimated),
                    datahub_message_id=message,
                    transaction_id=str(uuid.uuid4()),
                    original_transaction_id=None,
                    event_id=uuid.uuid4(),
                )
            )
            days += 1
            total_positions += n
            total_wh += sum(wh)
            if len(pending) >= BATCH:
                await flush()
            if time.perf_counter() - last >= 5.0:
                last = time.perf_counter()
                print(f"  {resolution} {last - started:6.1f}s {days:>10,} days", flush=True)
        day += timedelta(days=1)
    if pending:
        await flush()
    print(f"  {resolution}: {days:,} days loaded in {time.perf_counter() - started:.1f}s")
    return days, total_positions, total_wh


async def on_disk(conn: asyncpg.Connection, month: date) -> tuple[int, int]:
    """(the month partition with its indexes and TOAST, the source table) in bytes."""
    await conn.execute("VACUUM ANALYZE metering_data")
    part = await conn.fetchval(
        "SELECT pg_total_relation_size($1::text::regclass)", f"metering_data_{month:%Y_%m}"
    )
    source = await conn.fetchval("SELECT pg_total_relation_size('metering_data_source')")
    return int(part), int(source)


async def run(args: argparse.Namespace) -> int:
    checks = Checks()
    points = [gsrn_with_check_digit(f"5713131{k:010d}") for k in range(1, args.metering_points + 1)]
    async with throwaway_stack(fast_db=True) as stack:
        conn = await asyncpg.connect(stack.dsn)
        assert SETTLEMENT.db_schema is not None
        await migrations.apply(conn, SETTLEMENT.db_schema, SETTLEMENT.migrations())
        await conn.execute(f"SET search_path TO {SETTLEMENT.db_schema}")
        db = await Database(stack.dsn, SETTLEMENT.db_schema, max_size=2).open()
        results = []
        for resolution, month in MONTHS.items():
            days, n_positions, total_wh = await load(db, points, resolution)
            part, source = await on_disk(conn, month)
            end = (month + timedelta(days=32)).replace(day=1)
            read = await metering_data.bulk_latest(conn, points, month, end)
            series = read[resolution]
            checks.check(
                int(series.wh.sum()) == total_wh and not series.missing.any(),
                f"{resolution}: the bulk read gives back all {n_positions:,} values",
            )
            stored = part + source  # the whole source table: both months' (a few KB)
            floor = 4 * n_positions
            results.append((resolution, days, stored, floor))
        await db.close()
        await conn.close()
    print(f"\nRESULT storage, {args.metering_points:,} metering points, one month each:")
    for resolution, days, stored, floor in results:
        per_day = stored / days
        print(
            f"  {resolution}: {per_day:,.0f} B per metering-point day, "
            f"{stored / 2**20:,.1f} MiB the month; floor (raw values, 4 B a position) "
            f"{floor / days:,.0f} B, {floor / 2**20:,.1f} MiB; ratio {stored / floor:.2f}"
        )
    print(machine("fsync off"))
    return int(checks.exit_code())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metering-points", type=int, default=10_000)
    args = parse_args(parser, {"metering_points": 50})
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
