"""Consumption query: latency of a month of hourly data for one metering point, through the gateway.

Starts embedded PostgreSQL and Tansu on free ports, loads a year of PT1H metering data for N
metering points straight into settlement's store with its COPY loader (batches of 500 days, as
the consumer hands them over; not through Kafka), then starts the settlement service and the
gateway as separate processes (as `wattline up` does) and sends
``GET /api/metering-points/{gsrn}/consumption?from=...&to=...&resolution=PT1H`` for one month
of a random metering point, one request at a time (``--concurrency`` for more). It reports
p50/p95/p99 through the gateway and, for comparison, straight to the settlement service, and
the time of one bulk read (``bulk_latest``) of a month for all N metering points. The floor,
measured in the same run: ``GET /health/live`` through the gateway, the cheapest request there
is. The checks: every answer is 200 with every hour of the month and a total; the bulk read
finds every metering point with no value missing; the exit code is non-zero when one fails.

    uv run python benchmarks/consumption_query.py --metering-points 1000 --requests 1000
    uv run python benchmarks/consumption_query.py --smoke     # 3 metering points, seconds

Goal: p95 <= 20 ms through the gateway for a month of one GSRN.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta

import asyncpg
import httpx
import numpy as np
from _bench import (
    Checks,
    bench_identity,
    health_latencies,
    latency_summary,
    machine,
    parse_args,
)
from wattline_gateway.bootstrap import SPEC as GATEWAY
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.db import Database
from wattline_platform.embedded import Stack, child_preexec, free_port, throwaway_stack, wait_port
from wattline_platform.identifiers import gsrn_with_check_digit
from wattline_platform.topics import ensure_topics, load_topics
from wattline_settlement.adapters import metering_data
from wattline_settlement.adapters.metering_data import MeasureDay
from wattline_settlement.bootstrap import SPEC as SETTLEMENT
from wattline_settlement.domain.metering import positions

BATCH = 500


def gsrns(n: int) -> list[str]:
    return [gsrn_with_check_digit(f"5713131{k:010d}") for k in range(1, n + 1)]


def year_of_days(gsrn: str, year: int, rng: np.random.Generator) -> list[MeasureDay]:
    """A household's year: an evening peak, random noise, about 1 % estimated hours."""
    days: list[MeasureDay] = []
    day, end = date(year, 1, 1), date(year + 1, 1, 1)
    scale = rng.uniform(0.5, 2.0)
    while day < end:
        n = positions(day, "PT1H")
        hours = np.arange(n)
        wh = scale * (250 + 400 * np.exp(-((hours - 18) ** 2) / 8)) * rng.uniform(0.6, 1.4, n)
        estimated = rng.random(n) < 0.01
        days.append(
            MeasureDay(
                gsrn=gsrn,
                local_date=day,
                resolution="PT1H",
                wh=tuple(int(v) for v in wh.round()),
                qualities=tuple(3 if e else 4 for e in estimated),
                datahub_message_id=str(uuid.uuid4()),
                transaction_id=str(uuid.uuid4()),
                original_transaction_id=None,
                event_id=uuid.uuid4(),
            )
        )
        day += timedelta(days=1)
    return days


async def load(dsn: str, points: list[str], year: int) -> None:
    db = await Database(dsn, SETTLEMENT.name, max_size=2).open()
    rng = np.random.default_rng(7)
    pending: list[MeasureDay] = []
    stored = 0
    storing = 0.0  # seconds inside metering_data.store (the rest is making up the data)
    total = len(points) * (date(year + 1, 1, 1) - date(year, 1, 1)).days
    started = last = time.perf_counter()

    async def store(days: list[MeasureDay]) -> None:
        nonlocal stored, storing
        t0 = time.perf_counter()
        async with db.transaction() as tx:
            await metering_data.store(tx, days)
        storing += time.perf_counter() - t0
        stored += len(days)

    for gsrn in points:
        pending.extend(year_of_days(gsrn, year, rng))
        while len(pending) >= BATCH:
            await store(pending[:BATCH])
            del pending[:BATCH]
        if time.perf_counter() - last >= 1.0:
            last = time.perf_counter()
            elapsed = last - started
            print(
                f"  {elapsed:6.1f}s loaded {stored:>9,}/{total:,} metering-point-days "
                f"({stored / elapsed:,.0f}/s)",
                flush=True,
            )
    if pending:
        await store(pending)
    elapsed = time.perf_counter() - started
    async with db.connection() as conn:
        await conn.execute("ANALYZE metering_data")
        size = await conn.fetchval(
            """SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = 'metering_data'::regclass"""
        )
    print(
        f"loaded {stored:,} metering-point-days ({len(points)} x {year}) in {elapsed:.1f}s "
        f"= {stored / elapsed:,.0f} days/s; the store alone {stored / storing:,.0f} days/s "
        f"(COPY batches of {BATCH}, one transaction each); on disk {size}",
        flush=True,
    )
    await db.close()


async def bulk_read(dsn: str, points: list[str], year: int, checks: Checks) -> str:
    db = await Database(dsn, SETTLEMENT.name, max_size=1).open()
    async with db.connection() as conn:
        started = time.perf_counter()
        result = await metering_data.bulk_latest(conn, points, date(year, 3, 1), date(year, 4, 1))
        elapsed = time.perf_counter() - started
    await db.close()
    matrix = result["PT1H"]
    hours = sum(positions(d, "PT1H") for d in _days(date(year, 3, 1), date(year, 4, 1)))
    checks.check(
        matrix.wh.shape == (len(points), hours) and not matrix.missing.any(),
        f"the bulk read has every hour of March for every metering point: {matrix.wh.shape}, "
        f"{int(matrix.missing.sum())} missing",
    )
    return (
        f"bulk_latest, March {year} for all {len(points)} metering points: {elapsed * 1000:.0f} ms "
        f"-> int64 matrix {matrix.wh.shape}, {int(matrix.missing.sum())} missing"
    )


async def measure(
    client: httpx.AsyncClient,
    points: list[str],
    year: int,
    requests: int,
    concurrency: int,
    label: str,
    headers: dict[str, str],
) -> list[float]:
    rng = random.Random(11)
    latencies: list[float] = []
    queue = [(rng.choice(points), rng.randint(1, 12)) for _ in range(requests)]
    done = 0
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal done
        while queue:
            gsrn, month = queue.pop()
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            t0 = time.perf_counter()
            response = await client.get(
                f"/api/metering-points/{gsrn}/consumption",
                params={
                    "from": first.isoformat(),
                    "to": following.isoformat(),
                    "resolution": "PT1H",
                },
                headers=headers,
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
            body = response.json()
            hours = sum(positions(d, "PT1H") for d in _days(first, following))
            if len(body["points"]) != hours or not body["complete"]:
                raise RuntimeError(f"{label}: {gsrn} {first}: unexpected body")
            done += 1
            if done % 250 == 0:
                print(
                    f"  {label}: {done}/{requests} requests, "
                    f"{done / (time.perf_counter() - started):,.0f}/s",
                    flush=True,
                )

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((end - first).days)]


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return (
        f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms, max {ordered[-1]:.1f} ms "
        f"({len(ordered)} requests)"
    )


async def run(args: argparse.Namespace) -> int:
    async with throwaway_stack(fast_db=args.fast_db) as stack:
        procs: list[subprocess.Popen[bytes]] = []
        try:
            return await _run(args, stack, procs)
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def _run(args: argparse.Namespace, stack: Stack, procs: list[subprocess.Popen[bytes]]) -> int:
    dsn = stack.dsn
    conn = await asyncpg.connect(dsn)
    for spec in (SETTLEMENT, GATEWAY):
        assert spec.db_schema is not None
        await migrations.apply(conn, spec.db_schema, spec.migrations())
    await conn.execute("SET search_path TO gateway")
    key = await create_api_key(conn, "bench", ["settlement:read"], rate_limit_per_minute=10**7)
    await conn.close()
    await ensure_topics(stack.bootstrap, load_topics())
    print(
        f"stack up: postgres :{stack.pg_port} (fsync {'off' if args.fast_db else 'on'}), "
        f"tansu :{stack.kafka_port}",
        flush=True,
    )

    points = gsrns(args.metering_points)
    await load(dsn, points, args.year)

    settlement_port, gateway_port = free_port(), free_port()
    identity_key, signed = bench_identity()
    env = {
        **os.environ,
        "IDENTITY_KEY": identity_key,
        "DATABASE_URL": dsn,
        "KAFKA_BOOTSTRAP": stack.bootstrap,
        "WATTLINE_SETTLEMENT_PORT": str(settlement_port),
        "WATTLINE_GATEWAY_PORT": str(gateway_port),
        "WATTLINE_GATEWAY_SERVICES": json.dumps(
            {"settlement": f"http://127.0.0.1:{settlement_port}"}
        ),
        "LOG_LEVEL": "WARNING",
    }
    for module in ("wattline_settlement", "wattline_gateway"):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", module],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=child_preexec(),
            )
        )
    await wait_port("127.0.0.1", settlement_port, 30)
    await wait_port("127.0.0.1", gateway_port, 30)
    print(f"settlement :{settlement_port}, gateway :{gateway_port}", flush=True)

    auth = {"X-API-Key": key}
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=30) as gateway,
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settlement_port}", timeout=30, auth=signed
        ) as direct,
    ):
        await measure(gateway, points, args.year, args.warmup, 1, "warm-up", auth)
        via_gateway = await measure(
            gateway, points, args.year, args.requests, args.concurrency, "gateway", auth
        )
        straight = await measure(
            direct, points, args.year, args.requests, args.concurrency, "settlement", {}
        )
        trivial = await health_latencies(gateway, args.requests)
    checks = Checks()
    checks.check(
        len(via_gateway) == len(straight) == args.requests,
        f"every request answered 200 with every hour of its month and a total: "
        f"{len(via_gateway)} through the gateway, {len(straight)} straight, of {args.requests}",
    )
    bulk = await bulk_read(dsn, points, args.year, checks)

    print(
        f"\nRESULT GET /api/metering-points/{{gsrn}}/consumption, one month PT1H (672-744 points), "
        f"random GSRN of {args.metering_points} with a year of hourly data each, "
        f"concurrency {args.concurrency}:"
    )
    print(f"  through the gateway:    {summary(via_gateway)}")
    print(f"  straight to settlement: {summary(straight)}")
    print(f"  floor, GET /health/live through the gateway: {latency_summary(trivial)}")
    print(f"  {bulk}")
    print(machine(f"fsync {'off' if args.fast_db else 'on'}"))
    return checks.exit_code()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metering-points", type=int, default=1_000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--fast-db", action="store_true", help="fsync off (as in tests)")
    args = parse_args(parser, {"metering_points": 3, "requests": 20, "warmup": 5, "fast_db": True})
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
