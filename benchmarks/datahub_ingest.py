"""DataHub ingest: one simulated day of RSM-012 for N metering points, end to end.

Starts embedded PostgreSQL and Tansu, the simulator, the datahub service and the settlement
service as separate processes (as `wattline up` does), seeds N metering points, advances the
simulated clock one day and measures the time until every generated message is peeked, stored,
parsed and dequeued, its events are published to the broker and settlement has stored the day
rows they carry. Progress is printed every second.

Beside the figure, its floor in the same run: parsing the same documents (day two's RSM-012,
read back from ``datahub.inbound_messages``) into their events in this one process, and the
ratio of the two. The checks: exactly the generated documents stored (none lost, none twice),
every event published, settlement holding one day row per measure-data event, the simulator's
queues empty; the exit code is non-zero when one fails or the ingest does not finish within
``--timeout``.

    uv run python benchmarks/datahub_ingest.py --metering-points 80000
    uv run python benchmarks/datahub_ingest.py --smoke       # 20 metering points, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from _bench import Checks, bench_identity, machine, parse_args
from _datahub_stack import migrate, print_logs, service_env, start, stop
from wattline_cim import parse_documents, schema
from wattline_datahub.bootstrap import SPEC as DATAHUB
from wattline_datahub.domain.inbound import interpret
from wattline_platform.embedded import Stack, free_port, throwaway_stack, wait_port
from wattline_platform.topics import ensure_topics, load_topics
from wattline_settlement.bootstrap import SPEC as SETTLEMENT
from wattline_simulator.bootstrap import SPEC as SIMULATOR


class TimedOut(Exception):
    """The ingest did not finish within --timeout."""


async def _status(dsn: str) -> tuple[int, int, int, int, int]:
    """Messages stored and parsed, events written, of them measure data, not yet published
    (datahub), and day rows stored (settlement)."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM datahub.inbound_messages
                       WHERE status <> 'received') AS stored,
                      (SELECT count(*) FROM datahub.outbox) AS events,
                      (SELECT count(*) FROM datahub.outbox
                       WHERE topic = 'datahub.measure_data.received') AS measure,
                      (SELECT count(*) FROM datahub.outbox WHERE published_at IS NULL) AS pending,
                      (SELECT count(*) FROM settlement.metering_data) AS days"""
        )
    finally:
        await conn.close()
    assert row is not None
    return row["stored"], row["events"], row["measure"], row["pending"], row["days"]


async def parse_floor(dsn: str, before: set[str]) -> tuple[int, int, float]:
    """The floor: day two's measure-data documents parsed into their events in this process.

    The same code the service runs on them (the CIM parser, then :func:`interpret`), without
    HTTP, the database or the broker: messages, events and seconds.
    """
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT message_id, raw FROM datahub.inbound_messages WHERE category = 'MeasureData'"
        )
    finally:
        await conn.close()
    documents = [(r["message_id"], bytes(r["raw"])) for r in rows if r["message_id"] not in before]
    events = 0
    schema.warm()  # compiled once per process, as the service does at its start
    t0 = time.perf_counter()
    for message_id, raw in documents:
        for doc in parse_documents(raw):
            events += interpret(doc, message_id).count
    return len(documents), events, time.perf_counter() - t0


async def _caught_up(dsn: str, messages: int) -> bool:
    """*messages* stored, every event published and a day row for every measure-data event."""
    stored, _, measure, pending, days = await _status(dsn)
    return stored >= messages and pending == 0 and days >= measure


async def _message_ids(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r[0] for r in await conn.fetch("SELECT message_id FROM datahub.inbound_messages")}
    finally:
        await conn.close()


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
            stop(procs)


async def _run(
    args: argparse.Namespace, stack: Stack, procs: list[subprocess.Popen[bytes]], logs: Path
) -> int:
    dsn = stack.dsn
    await migrate(dsn, SIMULATOR, DATAHUB, SETTLEMENT)
    await ensure_topics(stack.bootstrap, load_topics())
    sim_port, dh_port, st_port = free_port(), free_port(), free_port()
    identity_key, signed = bench_identity()
    env = service_env(dsn, stack.bootstrap, identity_key, sim_port)
    env["WATTLINE_DATAHUB_PORT"] = str(dh_port)
    env["WATTLINE_SETTLEMENT_PORT"] = str(st_port)
    t_start = time.perf_counter()
    for module in ("wattline_simulator", "wattline_datahub", "wattline_settlement"):
        procs.append(start(module, env, logs))
    await wait_port("127.0.0.1", sim_port, 30)
    await wait_port("127.0.0.1", dh_port, 30)
    await wait_port("127.0.0.1", st_port, 30)
    print(
        f"stack up: postgres :{stack.pg_port}, tansu :{stack.kafka_port}, simulator :{sim_port}, "
        f"datahub :{dh_port}, settlement :{st_port} (up in {time.perf_counter() - t_start:.1f}s)",
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
        while not await _caught_up(dsn, first) or (await sim.get("/sim/queues")).json():
            in_time("day one's ingest")
            await asyncio.sleep(1.0)
        print(
            f"day one (with charges and links) ingested in {time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        stored_before, events_before, measure_before, _, days_before = await _status(dsn)
        before = await _message_ids(dsn)
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
            await asyncio.sleep(0.5)
            stored, events, measure, pending, days = await _status(dsn)
            stored, events = stored - stored_before, events - events_before
            measure, days = measure - measure_before, days - days_before
            elapsed = time.perf_counter() - t1
            print(
                f"  {elapsed:6.1f}s stored {stored:>6}/{messages} messages, {events:>7} events, "
                f"{pending:>6} unpublished, {days:>7} day rows in settlement",
                flush=True,
            )
            queues = (await sim.get("/sim/queues")).json()
            if stored >= messages and pending == 0 and not queues and days >= measure:
                break
        total = time.perf_counter() - t1
        await asyncio.sleep(1.0)  # let a late duplicate (if any) land before judging
        stored_all, events_all, _, pending, days_all = await _status(dsn)
        queues = (await sim.get("/sim/queues")).json()
        generated_all = sum((await sim.get("/sim/generated")).json()["documents"].values())
    floor_messages, floor_events, floor_s = await parse_floor(dsn, before)
    print(
        f"\nRESULT day two for {args.metering_points} metering points: {messages} messages, "
        f"{events} events, {days} day rows in settlement in {total:.1f}s "
        f"({days / total:,.0f} metering-point-days/s) from clock advance to the last day row"
    )
    print(
        f"  floor (same run, one process): parsing day two's {floor_messages} RSM-012 documents "
        f"into {floor_events} events {floor_s:.2f}s; ratio {total / floor_s:.1f}x "
        f"(the simulator generating the day, inside the span: {generate_s:.1f}s)"
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
    checks.check(
        days == measure and days_all - days_before == measure,
        f"settlement stored one day row per measure-data event: {days} rows, {measure} events",
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
