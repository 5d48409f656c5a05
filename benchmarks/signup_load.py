"""Onboarding under load: N switch signups through the gateway of a whole running system.

Starts `wattline up` exactly as the e2e tests do (tests-e2e/e2e_system.py's `System`, on free
ports, `--fast-db`, in a temporary directory), seeds the DataHub simulator with N metering points
supplied by another supplier, and POSTs one `/api/signup` (a switch, effective 15 Danish business
days ahead plus a margin) per metering point at a paced rate with bounded concurrency. About 5 %
of the signups are sent a second time with the same Idempotency-Key: the replay must answer the
same signup. Then it waits for DataHub's answers, moves the simulated clock past the effective
date and waits until every signup is active or rejected, and checks that nothing was duplicated:
one E03 process per GSRN at DataHub, one signup and one supply period per GSRN in the portfolio.
Progress is printed every second; the exit code is non-zero when a check fails. Beside the
latencies, their floor measured in the same run: ``GET /health/live`` through the same gateway.

    uv run python benchmarks/signup_load.py --signups 1000 --concurrency 50 --rate 50
    uv run python benchmarks/signup_load.py --smoke     # 6 signups, a whole system: ~1 min

Goal: p95 <= 50 ms at 50 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from wattline_platform.business_days import business_days_ahead, danish_today
from wattline_simulator.domain.seeding import (
    SeededPoint,
    customer_id_for,
    customer_key,
    seeded_points,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests-e2e"))
from _bench import health_latencies, latency_summary, parse_args, percentile
from _resources import ResourceSampler, format_report
from e2e_system import System

from wattline.registry import GATEWAY_METRICS_OFFSET, SERVICES

OTHER_SUPPLIER_GLN = "5799994000046"  # with ours_share=0 every point is the other supplier's
STATUSES = ("registered", "processing", "active", "rejected", "cancelled")
FINAL = ("active", "rejected", "cancelled")
REPLAY_SHARE = 0.05
REPLAY_DISTANCE = 25  # a replay is sent this many requests after its original
NOTICE_BUSINESS_DAYS = 15
MARGIN_DAYS = 2
CITIES = (("1050", "København K"), ("8000", "Aarhus C"), ("5000", "Odense C"), ("9000", "Aalborg"))


class CheckFailed(Exception):
    """A benchmark check did not hold."""


@dataclass
class Job:
    """One POST of the paced stream: a first submission or a replay of one."""

    index: int
    body: dict[str, Any]
    key: str
    replay_of: Job | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    status: int | str | None = None
    latency_ms: float | None = None
    started_at: float | None = None
    response: dict[str, Any] | None = None
    replayed_header: bool = False


class CpuMeter:
    """Share of the machine's CPU time busy since the last reading (Linux /proc/stat)."""

    def __init__(self) -> None:
        self.last = self._read()

    @staticmethod
    def _read() -> tuple[int, int] | None:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    def busy(self) -> str:
        now, last = self._read(), self.last
        self.last = now
        if now is None or last is None or now[0] == last[0]:
            return "cpu ?"
        return f"cpu {100 * (1 - (now[1] - last[1]) / (now[0] - last[0])):3.0f}%"


def _process_label(cmdline: list[str]) -> str:
    if "-m" in cmdline[:-1]:
        module = cmdline[cmdline.index("-m") + 1]
        return "wattline up" if module == "wattline" else module.removeprefix("wattline_")
    name = Path(cmdline[0].split(" ")[0].rstrip(":")).name if cmdline and cmdline[0] else "?"
    return "tansu" if name.startswith("tansu") else name


def cpu_seconds(root: int) -> Counter[str]:
    """CPU seconds (user + system) used so far by *root*'s process tree, by process kind,
    plus this load generator. Linux only; empty elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    labels: dict[int, str] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state ppid pgrp session ... utime stime
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
        labels[pid] = _process_label(cmdline)
    totals: Counter[str] = Counter()
    for pid, seconds in used.items():
        cursor = pid
        while cursor not in (0, 1, root) and cursor in parents:
            cursor = parents[cursor]
        if cursor == root:
            totals[labels[pid]] += seconds
    own = os.times()
    totals["load generator (this script)"] += own.user + own.system
    return totals


def signup_body(
    point: SeededPoint, product_id: str, effective: date, rng: random.Random
) -> dict[str, Any]:
    """The signup of *point*'s registered customer (the same person for every point at one
    address, so that DataHub's CPR/CVR check passes and the party is shared)."""
    # The customer belongs to the address: a solar point at a business address has profile
    # "solar" but the business's CVR, so pick the identity whose key the simulator stored.
    business = point.profile == "business"
    for candidate in (business, not business):
        scheme, number = customer_id_for(point.dar_id, candidate)
        if customer_key(scheme, number) == point.customer_key:
            business = candidate
            break
    else:
        raise AssertionError(f"no customer identity matches {point.gsrn}")
    tag = hashlib.sha256(str(point.dar_id).encode()).hexdigest()[:8]
    postal_code, city = CITIES[int(tag, 16) % len(CITIES)]
    return {
        "dar_id": str(point.dar_id),
        "gsrn": point.gsrn,
        "customer_name": f"{'Firma' if business else 'Kunde'} {tag}",
        "cpr_cvr": number,
        "contact_type": "business" if business else "private",
        "email": f"kunde-{tag}@example.dk",
        "phone": f"+45{rng.randrange(20_000_000, 99_999_999)}",
        "product_id": product_id,
        "type": "switch",
        "effective_date": effective.isoformat(),
        "billing_street": "Belastningsvej",
        "billing_house_number": str(1 + int(tag, 16) % 199),
        "billing_postal_code": postal_code,
        "billing_city": city,
    }


def build_jobs(bodies: list[dict[str, Any]], seed: int) -> list[Job]:
    """The paced stream: every first submission, and ~5 % replays REPLAY_DISTANCE later."""
    rng = random.Random(f"signup-load/{seed}")
    firsts = [Job(i, body, f"signup-load-{seed}-{uuid.uuid4()}") for i, body in enumerate(bodies)]
    replays = max(1, round(len(firsts) * REPLAY_SHARE)) if firsts else 0  # a small run has one
    chosen = sorted(rng.sample(range(len(firsts)), replays))
    jobs: list[Job] = []
    pending = {i + REPLAY_DISTANCE: i for i in chosen}
    for i, job in enumerate(firsts):
        jobs.append(job)
        if i in pending:
            original = firsts[pending.pop(i)]
            jobs.append(Job(original.index, original.body, original.key, replay_of=original))
    for i in sorted(pending.values()):  # originals near the end: replay after the last
        jobs.append(Job(firsts[i].index, firsts[i].body, firsts[i].key, replay_of=firsts[i]))
    return jobs


async def post_signup(client: httpx.AsyncClient, job: Job) -> None:
    if job.replay_of is not None:
        await job.replay_of.done.wait()
    start = job.started_at = time.perf_counter()
    try:
        r = await client.post("/api/signup", json=job.body, headers={"Idempotency-Key": job.key})
        job.latency_ms = (time.perf_counter() - start) * 1000
        job.status = r.status_code
        try:
            job.response = r.json()
        except ValueError:
            job.response = {"text": r.text[:500]}
        job.replayed_header = r.headers.get("Idempotent-Replayed") == "true"
    except httpx.HTTPError as exc:
        job.latency_ms = (time.perf_counter() - start) * 1000
        job.status = f"error:{type(exc).__name__}"
    finally:
        job.done.set()


async def load(
    client: httpx.AsyncClient, jobs: list[Job], rate: float, concurrency: int
) -> tuple[float, float]:
    """POST every job, starting at most *rate* a second and *concurrency* at once.
    Returns (first start, last response) on the perf_counter clock."""
    semaphore = asyncio.Semaphore(concurrency)
    tasks: list[asyncio.Task[None]] = []
    started = 0
    t0 = time.perf_counter()

    finished: list[Job] = []  # in completion order

    async def run(job: Job) -> None:
        try:
            await post_signup(client, job)
        finally:
            semaphore.release()
            finished.append(job)

    async def progress() -> None:
        seen = 0
        cpu = CpuMeter()
        while True:
            await asyncio.sleep(1.0)
            done = list(finished)
            codes = Counter(str(j.status) for j in done)
            window = [j.latency_ms for j in done[seen:] if j.latency_ms is not None]
            seen = len(done)
            print(
                f"  {time.perf_counter() - t0:6.1f}s started {started:>5}/{len(jobs)}, "
                f"done {len(done):>5}, in flight {started - len(done):>3} | last second: "
                f"{len(window):>3} done, p50 {percentile(window, 50):6.1f} ms, "
                f"p95 {percentile(window, 95):6.1f} ms, max {max(window, default=0):6.1f} ms"
                f" | {cpu.busy()} | codes {dict(sorted(codes.items()))}",
                flush=True,
            )

    reporter = asyncio.create_task(progress())
    try:
        for n, job in enumerate(jobs):
            delay = t0 + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await semaphore.acquire()
            started += 1
            tasks.append(asyncio.create_task(run(job)))
        await asyncio.gather(*tasks)
    finally:
        reporter.cancel()
        for task in tasks:
            task.cancel()
    return t0, time.perf_counter()


async def status_counts(client: httpx.AsyncClient) -> dict[str, int]:
    """Signups per external status, as the back-office API counts them."""

    async def one(status: str) -> tuple[str, int]:
        r = await client.get("/api/signups", params={"status": status, "page_size": 1})
        r.raise_for_status()
        return status, int(r.json()["total"])

    return dict(await asyncio.gather(*(one(s) for s in STATUSES)))


async def answered_count(dsn: str) -> int:
    """Our switch processes DataHub has answered (past pending / sent_to_datahub)."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM portfolio.process WHERE kind = 'BRS-001' "
            "AND status NOT IN ('pending', 'sent_to_datahub')"
        )
    finally:
        await conn.close()


Histogram = dict[str, float]  # "le" bound (and "sum", "count") -> cumulative value


def service_url(system: System, name: str) -> str:
    offset = next(e.port_offset for e in SERVICES if e.name == name)
    return f"http://127.0.0.1:{system.base_port + offset}"


async def http_histogram(
    client: httpx.AsyncClient, url: str, method: str, routes: tuple[str, ...]
) -> Histogram:
    """A service's own request-latency histogram, summed over the matching routes (a route
    ending in '*' matches by prefix)."""
    text = (await client.get(f"{url}/metrics")).text
    found: Histogram = {}
    for line in text.splitlines():
        if not line.startswith("wattline_http_request_seconds_"):
            continue
        name_labels, value = line.rsplit(" ", 1)
        name, _, labels_text = name_labels.partition("{")
        labels = dict(re.findall(r'(\w+)="([^"]*)"', labels_text))
        route = labels.get("route", "")
        if labels.get("method") != method or not any(
            route == r or (r.endswith("*") and route.startswith(r[:-1])) for r in routes
        ):
            continue
        key = name.removeprefix("wattline_http_request_seconds_")
        if key == "bucket":
            key = labels["le"]
        elif key not in ("sum", "count"):
            continue
        found[key] = found.get(key, 0.0) + float(value)
    return found


def histogram_summary(before: Histogram, after: Histogram) -> str:
    """Mean, share within 50 ms and the buckets holding p50/p95 of what happened in between."""
    diff = {k: v - before.get(k, 0.0) for k, v in after.items()}
    count = diff.get("count", 0.0)
    if not count:
        return "no requests seen"
    bounds = sorted((float(k), v) for k, v in diff.items() if k not in ("sum", "count"))

    def bucket(q: float) -> str:
        lower = 0.0
        for bound, cumulative in bounds:
            if cumulative >= q * count:
                return f"{lower * 1000:g}-{bound * 1000:g} ms"
            lower = bound
        return f"> {lower * 1000:g} ms"

    within = next((v for b, v in bounds if b == 0.05), float("nan"))
    return (
        f"{count:.0f} requests, mean {diff['sum'] / count * 1000:.1f} ms, "
        f"{within / count:.0%} within 50 ms, p50 in {bucket(0.5)}, p95 in {bucket(0.95)}"
    )


def fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{s} {counts[s]:>5}" for s in STATUSES)


async def wait_for(
    what: str,
    client: httpx.AsyncClient,
    dsn: str,
    expected: int,
    deadline: float,
    done: Any,
    t0: float,
) -> dict[str, int]:
    """Print the status counts every second until *done(counts, answered)* or the deadline."""
    cpu = CpuMeter()
    while True:
        counts, answered = await asyncio.gather(status_counts(client), answered_count(dsn))
        print(
            f"  {time.perf_counter() - t0:6.1f}s {fmt_counts(counts)} | "
            f"answered by DataHub {answered:>5}/{expected} | {cpu.busy()}",
            flush=True,
        )
        if done(counts, answered):
            return counts
        if time.perf_counter() > deadline:
            raise CheckFailed(f"timed out waiting for {what}: {counts}, answered {answered}")
        await asyncio.sleep(1.0)


async def duplicate_checks(
    sim: httpx.AsyncClient, dsn: str, gsrns: set[str], counts: dict[str, int]
) -> list[tuple[str, bool, str]]:
    """(check, passed, detail) for 'none duplicated' at DataHub and in the portfolio."""
    results: list[tuple[str, bool, str]] = []
    processes = (await sim.get("/sim/processes")).json()
    e03 = Counter(p["gsrn"] for p in processes if p["process_type"] == "E03")
    states = Counter(p["state"] for p in processes if p["process_type"] == "E03")
    twice = sorted(g for g, n in e03.items() if n > 1)
    missing = sorted(gsrns - set(e03))
    results.append(
        (
            "DataHub: exactly one E03 per signed-up GSRN",
            not twice and not missing and set(e03) == gsrns,
            f"{sum(e03.values())} E03 processes on {len(e03)} GSRNs "
            f"({dict(states)}); duplicated {len(twice)}, missing {len(missing)}"
            + (f", e.g. {(twice or missing)[:3]}" if twice or missing else ""),
        )
    )
    conn = await asyncpg.connect(dsn)
    try:
        signups = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT gsrn) AS d FROM portfolio.signup"
        )
        keyed = await conn.fetchval(
            "SELECT count(*) FROM portfolio.signup WHERE idempotency_key IS NOT NULL"
        )
        periods = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT gsrn) AS d FROM portfolio.supply_period"
        )
    finally:
        await conn.close()
    assert signups is not None and periods is not None
    results.append(
        (
            "portfolio.signup: one per GSRN",
            signups["n"] == signups["d"] == len(gsrns),
            f"{signups['n']} rows, {signups['d']} distinct GSRNs, {len(gsrns)} signed up "
            f"({keyed} stored with their Idempotency-Key)",
        )
    )
    results.append(
        (
            "portfolio.supply_period: one per GSRN",
            periods["n"] == periods["d"],
            f"{periods['n']} rows, {periods['d']} distinct GSRNs",
        )
    )
    results.append(
        (
            "supply periods = active signups",
            periods["n"] == counts["active"],
            f"{periods['n']} supply periods, {counts['active']} active signups",
        )
    )
    return results


async def run(args: argparse.Namespace, system: System) -> bool:
    ok = True
    dsn = system.admin_dsn
    async with (
        httpx.AsyncClient(
            base_url=system.simulator_url, timeout=600, auth=system.identity_auth()
        ) as sim,
        httpx.AsyncClient(
            base_url=system.url,
            headers={"X-API-Key": system.key},
            timeout=30,
            limits=httpx.Limits(
                max_connections=args.concurrency + 10,
                max_keepalive_connections=args.concurrency + 10,
            ),
        ) as client,
    ):
        t = time.perf_counter()
        seeded = (
            await sim.post(
                "/sim/seed",
                json={"metering_points": args.signups, "seed": args.seed, "ours_share": 0},
            )
        ).raise_for_status()
        print(f"seeded {args.signups} metering points in {time.perf_counter() - t:.1f}s: "
              f"{seeded.json()}", flush=True)  # fmt: skip
        points = list(seeded_points(args.seed, args.signups, supplier_gln=OTHER_SUPPLIER_GLN))
        blocked = sum(p.blocked for p in points)

        now = datetime.fromisoformat((await sim.get("/sim/clock")).raise_for_status().json()["now"])
        today = danish_today(now)
        effective = business_days_ahead(today, NOTICE_BUSINESS_DAYS) + timedelta(MARGIN_DAYS)
        products = (await client.get("/api/products")).raise_for_status().json()
        if not products:
            raise CheckFailed("GET /api/products returned no products")
        product = products[0]
        print(
            f"simulated now {now.isoformat()} (Danish date {today}); effective date {effective}; "
            f"product {product['name']!r} ({product['product_id']}); "
            f"{blocked} of the points are blocked for switching",
            flush=True,
        )

        rng = random.Random(args.seed)
        bodies = [signup_body(p, product["product_id"], effective, rng) for p in points]
        jobs = build_jobs(bodies, args.seed)
        firsts = [j for j in jobs if j.replay_of is None]
        replays = [j for j in jobs if j.replay_of is not None]
        print(
            f"\nPOSTing {len(firsts)} signups + {len(replays)} idempotent replays at "
            f"{args.rate:g}/s, at most {args.concurrency} in flight",
            flush=True,
        )
        # Each service's own view of the same requests: where the time goes.
        # The portfolio labels controller routes by the handler's own path ("/"); during the
        # load its only POSTs are signups.
        watched = {
            # The gateway's /metrics is on its metrics port, not its public one.
            "gateway (POST /api/...)": (
                f"http://127.0.0.1:{system.base_port + GATEWAY_METRICS_OFFSET}",
                "POST",
                ("/api*",),
            ),
            "portfolio (POST /api/signup)": (
                service_url(system, "portfolio"),
                "POST",
                ("/", "/api/signup", "/api/signup/"),
            ),
            "simulator (GET address lookup)": (system.simulator_url, "GET", ("/sim/addresses*",)),
        }
        floor = await health_latencies(client, max(20, min(args.signups, 200)))
        before = {name: await http_histogram(sim, *where) for name, where in watched.items()}
        assert system.proc is not None
        cpu_before = cpu_seconds(system.proc.pid)
        wall0 = time.perf_counter()
        t0, t_end = await load(client, jobs, args.rate, args.concurrency)
        cpu_used = cpu_seconds(system.proc.pid)
        cpu_used.subtract(cpu_before)
        server_side = {
            name: histogram_summary(before[name], await http_histogram(sim, *where))
            for name, where in watched.items()
        }
        post_seconds = t_end - t0

        first_codes = Counter(str(j.status) for j in firsts)
        replay_codes = Counter(str(j.status) for j in replays)
        lat = [j.latency_ms for j in firsts if j.latency_ms is not None]
        replay_lat = [j.latency_ms for j in replays if j.latency_ms is not None]
        all_lat = lat + replay_lat
        bad_replays = [
            j
            for j in replays
            if j.status != 201
            or j.response is None
            or j.replay_of is None
            or j.replay_of.response is None
            or j.response.get("signup_id") != j.replay_of.response.get("signup_id")
        ]
        unflagged = sum(1 for j in replays if j.status == 201 and not j.replayed_header)
        created = [j for j in firsts if j.status == 201]
        failures = [j for j in firsts if j.status != 201]
        for j in failures[:5]:
            print(f"  failed signup {j.body['gsrn']}: {j.status} {j.response}", flush=True)
        statuses_ok = all(j.response and j.response.get("status") == "registered" for j in created)
        ids = [j.response["signup_id"] for j in created if j.response]
        gsrns = {j.body["gsrn"] for j in created}

        print(
            f"\nPOSTs done in {post_seconds:.1f}s: first submissions {dict(first_codes)}, "
            f"replays {dict(replay_codes)}",
            flush=True,
        )
        if failures:
            print(f"  CHECK FAILED: {len(failures)} signups not created (201)", flush=True)
            ok = False
        if len(set(ids)) != len(ids):
            print(f"  CHECK FAILED: {len(ids) - len(set(ids))} duplicated signup_ids", flush=True)
            ok = False
        if not statuses_ok:
            print("  CHECK FAILED: a 201 without status 'registered'", flush=True)
            ok = False
        if bad_replays:
            j = bad_replays[0]
            print(f"  CHECK FAILED: {len(bad_replays)} replays not answering the same signup, "
                  f"e.g. {j.status} {j.response} (first: {j.replay_of and j.replay_of.response})",
                  flush=True)  # fmt: skip
            ok = False

        # DataHub's answers, then the effective date.
        print("\nwaiting for DataHub to answer every signup", flush=True)
        deadline = time.perf_counter() + args.timeout
        expected = len(created)
        await wait_for(
            "DataHub's answers",
            client,
            dsn,
            expected,
            deadline,
            lambda c, a: c["registered"] == 0 and a >= expected,
            t0,
        )
        answered_s = time.perf_counter() - t0

        target = datetime.combine(effective + timedelta(days=1), dtime(0), tzinfo=UTC)
        print(f"\nadvancing the simulated clock to {target.isoformat()}", flush=True)
        t_clock = time.perf_counter()
        advance = asyncio.create_task(sim.post("/sim/clock", json={"to": target.isoformat()}))
        counts: dict[str, int] = {}
        while not advance.done():
            counts = await status_counts(client)
            print(f"  {time.perf_counter() - t_clock:6.1f}s (clock advance running) "
                  f"{fmt_counts(counts)}", flush=True)  # fmt: skip
            if time.perf_counter() > deadline:
                advance.cancel()
                raise CheckFailed("timed out while the simulator advanced the clock")
            await asyncio.wait({advance}, timeout=1.0)
        moved = advance.result().raise_for_status().json()
        clock_s = time.perf_counter() - t_clock
        print(f"clock advanced in {clock_s:.1f}s: {len(moved['generated'])} days generated",
              flush=True)  # fmt: skip
        counts = await wait_for(
            "every signup to be final",
            client,
            dsn,
            expected,
            deadline,
            lambda c, a: sum(c[s] for s in FINAL) >= expected and c["registered"] == 0,
            t_clock,
        )
        final_s = time.perf_counter() - t_clock
        wall = time.perf_counter() - wall0

        await asyncio.sleep(2.0)  # let late duplicates (if any) land before judging
        counts = await status_counts(client)
        checks = await duplicate_checks(sim, dsn, gsrns, counts)
        rejected = []
        if counts["rejected"]:
            page = await client.get("/api/signups", params={"status": "rejected", "page_size": 100})
            rejected = page.json()["items"]

    p50, p95, p99 = (percentile(lat, q) for q in (50, 95, 99))
    print("\n" + "=" * 78)
    print(
        f"RESULT {len(firsts)} signups (+{len(replays)} replays) at {args.rate:g}/s target, "
        f"concurrency {args.concurrency}, seed {args.seed}"
    )
    print(
        f"  POST /api/signup latency (first submissions): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(lat, default=float('nan')):.1f} ms"
    )
    windows: dict[int, list[float]] = {}
    for j in firsts:
        if j.latency_ms is not None and j.started_at is not None:
            windows.setdefault(int((j.started_at - t0) // 5), []).append(j.latency_ms)
    print("  over time (by start, 5 s windows): " + "; ".join(
        f"{w * 5}-{w * 5 + 5}s p50 {percentile(v, 50):.0f}/p95 {percentile(v, 95):.0f}/"
        f"max {max(v):.0f} ms" for w, v in sorted(windows.items())
    ))  # fmt: skip
    print(
        f"  floor, GET /health/live through the gateway (one at a time): {latency_summary(floor)}"
    )
    for name, summary in server_side.items():
        print(f"  server side, {name}: {summary}")
    if cpu_used:
        print(
            f"  CPU seconds during the POSTs ({post_seconds:.0f} s x {os.cpu_count()} cores = "
            f"{post_seconds * (os.cpu_count() or 1):.0f} available): "
            + ", ".join(f"{k} {v:.1f}" for k, v in cpu_used.most_common() if v >= 0.05)
        )
    print(
        f"  replays: p50 {percentile(replay_lat, 50):.1f} ms, "
        f"p95 {percentile(replay_lat, 95):.1f} ms; all POSTs p95 {percentile(all_lat, 95):.1f} ms"
    )
    print(
        f"  achieved rate: {len(jobs) / post_seconds:.1f} requests/s "
        f"({len(jobs)} POSTs, first start to last response {post_seconds:.1f}s)"
    )
    print(f"  status codes: first {dict(first_codes)}, replays {dict(replay_codes)}")
    print(
        f"  idempotent replays: {len(replays) - len(bad_replays)}/{len(replays)} answered the "
        f"same signup_id"
        + (f" ({unflagged} without Idempotent-Replayed: true)" if unflagged else "")
    )
    print(f"  final statuses: {fmt_counts(counts)} ({blocked} points blocked for switching)")
    reasons = Counter((r.get("rejection_reason") or "?")[:80] for r in rejected)
    if reasons:
        print(f"  rejection reasons: {dict(reasons)}")
    print(f"  first POST -> every signup answered by DataHub: {answered_s:.1f}s")
    print(
        f"  clock advance -> every signup final: {final_s:.1f}s "
        f"(of which the simulator's clock advance {clock_s:.1f}s)"
    )
    print(f"  wall time from first POST until every signup final: {wall:.1f}s")
    for name, passed, detail in checks:
        print(f"  [{'ok' if passed else 'FAILED'}] {name}: {detail}")
        ok = ok and passed
    if counts["rejected"] != blocked or counts["cancelled"]:
        print(f"  [FAILED] expected exactly the {blocked} points blocked for switching to be "
              f"rejected and none cancelled: {counts['rejected']} rejected, "
              f"{counts['cancelled']} cancelled")  # fmt: skip
        ok = False
    else:
        print(f"  [ok] rejected = the {blocked} points blocked for switching, none cancelled")
    if args.rate < 50:
        goal = f"not judged at {args.rate:g} requests/s"
    elif p95 <= 50 and len(jobs) / post_seconds >= 0.95 * args.rate:
        goal = "met"
    else:
        goal = "NOT met"
    print(f"  goal p95 <= 50 ms at 50 requests/s: {goal}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]} "
        "(load generator on the same machine as the system)"
    )
    return ok


def stop(system: System) -> None:
    if system.proc is None:
        return
    print("stopping wattline up", flush=True)
    try:
        system.stop()
    except subprocess.TimeoutExpired:
        assert system.proc is not None
        os.killpg(system.proc.pid, signal.SIGKILL)  # its own session: what we started
        system.proc.wait()
        system.proc = None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--signups", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50.0, help="requests started per second")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds to wait for answers and activation"
    )
    parser.add_argument("--keep", action="store_true", help="keep the system's directory")
    parser.add_argument(
        "--settle",
        type=float,
        default=10.0,
        help="seconds to let the system settle after it reports ready (consumers joining)",
    )
    args = parse_args(
        parser, {"signups": 6, "concurrency": 4, "rate": 20.0, "settle": 0.0, "timeout": 120.0}
    )

    t_script = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="wattline-signup-load-"))
    system = System(home)
    code, crashed = 1, False
    try:
        t = time.perf_counter()
        print(f"starting wattline up in {home}", flush=True)
        system.start(timeout=180)
        print(f"system ready in {time.perf_counter() - t:.1f}s: gateway {system.url}, "
              f"simulator {system.simulator_url}", flush=True)  # fmt: skip
        if args.settle > 0:
            print(f"letting it settle for {args.settle:g}s", flush=True)
            time.sleep(args.settle)
        # Peak memory and CPU per process of the system while it takes the load (issue 17).
        with ResourceSampler(home) as sampler:
            code = 0 if asyncio.run(run(args, system)) else 1
        print("resources per process during the run (RSS of its process tree; CPU % of one "
              "core):\n" + format_report(sampler.report()), flush=True)  # fmt: skip
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        code = 130
    except CheckFailed as exc:
        print(f"\nCHECK FAILED: {exc}", flush=True)
        crashed = True
    except Exception as exc:
        crashed = True
        print(f"\nERROR: {type(exc).__name__}: {exc}", flush=True)
        if isinstance(exc, httpx.HTTPStatusError):
            print(exc.response.text[:2000], flush=True)
        if system.log.exists():
            print("--- last lines of up.log ---\n" + system.log.read_text()[-3000:], flush=True)
    finally:
        try:
            stop(system)
        finally:
            if args.keep or crashed:  # its up.log and database, to look into
                print(f"system directory kept: {home}")
            else:
                shutil.rmtree(home, ignore_errors=True)
            print(f"total time {time.perf_counter() - t_script:.0f}s, exit code {code}", flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
