"""Scale-out of the DataHub ingest: N datahub replicas share one day of messages.

Starts embedded PostgreSQL and Tansu, applies the simulator's and datahub's migrations, starts
one simulator process and seeds ``--metering-points`` metering points; day one (with its
charges and links) is ingested by one replica, not measured. Then, for each N of
``--replicas`` (1, 2, 4), N datahub service processes (``python -m wattline_datahub``, as in a
deployment, each on its own port) are started, the simulated clock advances one day and the
round lasts until every message the day brought is kept, parsed and its events published.
One replica polls a category (a lease); every replica's parse workers share what it keeps and
commit a category in DataHub's order (``handlers/inbound.parse_next``). In the round
``--kill-round`` one replica is killed with SIGKILL once a quarter of the day is parsed; the
others take its lease and its claims over.

Checks per round: every message the simulator served is stored, once (by DataHub message id);
none left ``received``; every event written once (distinct event ids, as many as the messages
say they gave) and published; the simulator's queues empty. Reported per N: the wall time, the
floor (the round's RSM-012 documents parsed into events in this one process, same run), the
ratio, the speed-up against the first N and the extrapolation to 1,000,000 metering points.
Exit code non-zero when a check fails.

    uv run python benchmarks/scale_out_ingest.py --smoke     # 300 points, N = 1, 2, one kill
    uv run python benchmarks/scale_out_ingest.py --metering-points 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from _bench import Checks, bench_identity, machine, parse_args
from _datahub_stack import migrate, print_logs, service_env, start, stop
from datahub_ingest import parse_floor
from wattline_datahub.bootstrap import SPEC as DATAHUB
from wattline_platform.embedded import free_port, throwaway_stack, wait_port
from wattline_platform.topics import ensure_topics, load_topics
from wattline_simulator.bootstrap import SPEC as SIMULATOR

TARGET = 1_000_000


@dataclass
class Round:
    n: int
    wall: float
    messages: int
    floor_s: float


async def _progress(conn: asyncpg.Connection, since_event: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM datahub.inbound_messages) AS kept,
                  (SELECT count(*) FROM datahub.inbound_messages
                   WHERE status = 'received') AS received,
                  (SELECT count(*) FROM datahub.outbox WHERE id > $1) AS events,
                  (SELECT count(*) FROM datahub.outbox WHERE published_at IS NULL) AS pending,
                  (SELECT count(*) FROM simulator.queue WHERE dequeued_at IS NULL) AS queued""",
        since_event,
    )
    return row


async def _day(
    dsn: str,
    sim: httpx.AsyncClient,
    replicas: list[subprocess.Popen[bytes]],
    kill: bool,
    timeout: float,
) -> tuple[float, int, set[str], int, subprocess.Popen[bytes] | None]:
    """Advance the clock a day and wait until its messages are kept, parsed and published:
    seconds, messages, the ids kept before, the last outbox id before, the replica killed."""
    conn = await asyncpg.connect(dsn)
    try:
        before = {r[0] for r in await conn.fetch("SELECT message_id FROM datahub.inbound_messages")}
        last_event = await conn.fetchval("SELECT coalesce(max(id), 0) FROM datahub.outbox")
        generated = sum((await sim.get("/sim/generated")).json()["documents"].values())
        t0 = time.perf_counter()
        await sim.post("/sim/clock", json={"advance_days": 1})
        messages = sum((await sim.get("/sim/generated")).json()["documents"].values()) - generated
        killed = None
        while True:
            await asyncio.sleep(0.25)
            p = await _progress(conn, last_event)
            kept, received = p["kept"] - len(before), p["received"]
            elapsed = time.perf_counter() - t0
            print(
                f"  {elapsed:6.1f}s kept {kept:>5}/{messages}, {received:>5} not parsed yet, "
                f"{p['events']:>6} events, {p['pending']:>5} unpublished",
                flush=True,
            )
            if kill and killed is None and kept - received >= max(1, messages // 4):
                killed = replicas[0]
                os.kill(killed.pid, signal.SIGKILL)
                print(f"  killed replica pid {killed.pid} (SIGKILL) mid-day", flush=True)
            if kept >= messages and received == 0 and p["pending"] == 0 and p["queued"] == 0:
                return time.perf_counter() - t0, messages, before, last_event, killed
            if elapsed > timeout:
                raise TimeoutError(f"the day not ingested within --timeout {timeout:g}s")
    finally:
        await conn.close()


async def _check_round(
    dsn: str, label: str, before: set[str], last_event: int, checks: Checks
) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        served = {
            r[0]
            for r in await conn.fetch(
                "SELECT DISTINCT message_id FROM simulator.served "
                "WHERE status = 200 AND message_id IS NOT NULL"
            )
        } - before
        rows = await conn.fetch("SELECT message_id, status, events FROM datahub.inbound_messages")
        kept = {r["message_id"]: r for r in rows if r["message_id"] not in before}
        events = await conn.fetchrow(
            """SELECT count(*) AS n, count(DISTINCT envelope::jsonb ->> 'event_id') AS ids,
                      count(*) FILTER (WHERE published_at IS NULL) AS pending
               FROM datahub.outbox WHERE id > $1""",
            last_event,
        )
    finally:
        await conn.close()
    assert events is not None
    said = sum(r["events"] for r in kept.values() if r["status"] == "stored")
    checks.check(
        served <= kept.keys() and len(kept) == len(served),
        f"{label}: every served message stored once: {len(served)} served, {len(kept)} stored",
    )
    left = sum(1 for r in kept.values() if r["status"] == "received")
    checks.check(left == 0, f"{label}: none left received ({left})")
    checks.check(
        events["n"] == events["ids"] == said and events["pending"] == 0,
        f"{label}: every event written once and published: {events['n']} events, "
        f"{events['ids']} event ids, {said} as the messages say, {events['pending']} unpublished",
    )


async def run(args: argparse.Namespace) -> int:
    checks = Checks()
    rounds: list[Round] = []
    logs = Path(tempfile.mkdtemp(prefix="wattline-scale-out-ingest-"))
    async with throwaway_stack(fast_db=args.fast_db) as stack:
        dsn = stack.dsn
        await migrate(dsn, SIMULATOR, DATAHUB)
        await ensure_topics(stack.bootstrap, load_topics())
        sim_port = free_port()
        identity_key, signed = bench_identity()
        env = service_env(dsn, stack.bootstrap, identity_key, sim_port)
        env["WATTLINE_DATAHUB_PARSE_PROCESSES"] = str(args.parse_processes)
        simulator = start("wattline_simulator", env, logs)
        replicas: list[subprocess.Popen[bytes]] = []

        async def up(n: int, name: str) -> None:
            ports = [free_port() for _ in range(n)]
            for i, port in enumerate(ports):
                replicas.append(
                    start(
                        "wattline_datahub",
                        env,
                        logs,
                        f"{name}-{i}",
                        WATTLINE_DATAHUB_PORT=str(port),
                    )
                )
            for port in ports:
                await wait_port("127.0.0.1", port, 60)

        try:
            await wait_port("127.0.0.1", sim_port, 30)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{sim_port}", timeout=600, auth=signed
            ) as sim:
                await sim.post(
                    "/sim/seed", json={"metering_points": args.metering_points, "seed": 1}
                )
                await up(1, "day-one")
                wall, messages, *_ = await _day(dsn, sim, replicas, False, args.timeout)
                print(f"day one ({messages} messages, not measured) in {wall:.1f}s", flush=True)
                stop(replicas)
                replicas.clear()
                for n in args.replicas:
                    kill = n == args.kill_round
                    print(f"N={n}{' (one replica killed)' if kill else ''}:", flush=True)
                    await up(n, f"n{n}")
                    wall, messages, before, last_event, killed = await _day(
                        dsn, sim, replicas, kill, args.timeout
                    )
                    stop(replicas)
                    replicas.clear()
                    label = f"N={n}" + (" (one replica killed)" if kill else "")
                    await _check_round(dsn, label, before, last_event, checks)
                    if kill:
                        checks.check(
                            killed is not None and killed.returncode == -signal.SIGKILL,
                            f"{label}: a replica was killed mid-day and the others took over",
                        )
                    _, _, floor_s = await parse_floor(dsn, before)
                    rounds.append(Round(n, wall, messages, floor_s))
        except Exception as exc:
            print(f"\nFAILED: {exc!r}", flush=True)
            print_logs(logs)
            checks.check(False, f"the rounds ran: {exc!r}")
        finally:
            stop([*replicas, simulator])
    if rounds:
        base = rounds[0].wall
        print(
            f"\nRESULT scale-out ingest, one day for {args.metering_points:,} metering points, "
            f"parse processes per replica {args.parse_processes}, {os.cpu_count()} cores"
        )
        for r in rounds:
            rate = args.metering_points / r.wall
            print(
                f"RESULT N={r.n}: {r.wall:.1f}s for {r.messages} messages; floor (same run, one "
                f"process, parsing the day's RSM-012) {r.floor_s:.2f}s, ratio "
                f"{r.wall / r.floor_s:.1f}x; speed-up {base / r.wall:.2f}x; {TARGET:,} metering "
                f"points at this rate: ~{TARGET / rate:,.0f}s"
            )
    print(machine(f"fsync {'off' if args.fast_db else 'on'}"))
    return checks.exit_code()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metering-points", type=int, default=20_000)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--kill-round", type=int, default=2, help="N whose round kills one")
    parser.add_argument(
        "--parse-processes", type=int, default=0, help="WATTLINE_DATAHUB_PARSE_PROCESSES"
    )
    parser.add_argument("--fast-db", action="store_true", help="fsync off (as in tests)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a day may take")
    args = parse_args(
        parser, {"metering_points": 300, "replicas": [1, 2], "fast_db": True, "timeout": 60}
    )
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
