"""Monthly settlement run: N metering points from the database to stored settlements and events.

Starts embedded PostgreSQL (and Tansu, unused: nothing here goes through the broker) on free
ports, applies settlement's migrations and writes one month of inputs straight into
settlement's tables, deterministically from ``--seed`` (not through Kafka):

* master data: N metering points (E17, D01, ``--resolution``), real-looking GSRNs, grid areas
  344/131/543 (DK1) and 740/791 (DK2) weighted as the DataHub simulator weights them;
* metering data for every local day of the month (a household-like daily profile with a random
  scale, ~0.5 % estimated values), through ``adapters.metering_data.store`` in transactions of
  ``--load-batch`` days, the next batch made in a thread while the store works;
* spot prices for DK1 and DK2 through ``pricing.import_spot_file`` (an EDS-shaped JSON file);
* charges through ``adapters.charges.apply_charge`` (each grid company's hourly tariff and
  subscription, Energinet's system and transmission tariffs and the electricity tax), and five
  charge links per metering point by COPY;
* one spot product (``apply_product_version``), and per metering point a contract and an open
  supply period that began before the month, by COPY.

Then it queues the month's run (``runs.start_run``) and executes it here (``runs.drain``:
``--workers`` concurrent chunk workers, as the service's run worker does). The run's progress is read from ``settlement_run`` every
second by a thread with its own connection, so a chunk that keeps the event loop busy does not
stop the output; the same thread samples this process's RSS every 0.1 s. The report gives the
load time, the run's wall time and rate, peak memory, CPU of this process and of PostgreSQL
during the run, storage of the month (metering data partition, settlement tables, the outbox
rows the run wrote), the settlement.completed events written, and the machine.

    uv run python benchmarks/settlement_80k.py --smoke          # 20 metering points, seconds
    uv run python benchmarks/settlement_80k.py --metering-points 2000            # quick check
    uv run python benchmarks/settlement_80k.py --metering-points 80000 --resolution PT1H

Beside the run's wall time, the floor measured in the same run: one bulk read
(``metering_data.bulk_latest``) of the month's metering data for every metering point, which
the run cannot do without. The checks: the run completed, every metering point settled (one
``settlement`` row and one ``settlement.completed`` event each), none blocked; the exit code is
non-zero when one fails.

Goals on 2 cores: <= 60 s for PT1H, <= 240 s for PT15M.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import numpy as np
import psutil
from _bench import Checks, parse_args
from wattline_contracts.datahub import ChargeReceivedV1, PriceSeriesV1
from wattline_contracts.portfolio import ProductVersionPublishedV1
from wattline_platform import migrations
from wattline_platform.business_days import DANISH_TZ, local_midnight
from wattline_platform.db import Database
from wattline_platform.embedded import Stack, throwaway_stack
from wattline_platform.grid_areas import price_area
from wattline_platform.identifiers import gsrn_with_check_digit
from wattline_platform.logging import configure_logging
from wattline_settlement.adapters import charges as charge_store
from wattline_settlement.adapters import metering_data
from wattline_settlement.adapters.metering_data import MeasureDay
from wattline_settlement.bootstrap import SPEC as SETTLEMENT
from wattline_settlement.bootstrap import SettlementSettings, build
from wattline_settlement.domain import charge_rules
from wattline_settlement.domain.billing import billing_period
from wattline_settlement.domain.engine import STEPS, days_of
from wattline_settlement.domain.metering import positions
from wattline_settlement.domain.model import Period
from wattline_settlement.handlers import pricing, runs
from wattline_simulator.domain import charges as sim_charges
from wattline_simulator.domain.market import GRID_AREA_WEIGHTS

SCHEMA = "settlement"
GOAL_S = {"PT1H": 60.0, "PT15M": 240.0}
GOAL_CORES = 2
GOAL_POINTS = 80_000
MB = 1024 * 1024

PRODUCT_ID = "5f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8"
MARGIN = Decimal("0.04")
SUBSCRIPTION = Decimal("39.00")
# Spot price level per area, DKK/MWh (a winter month of 2025, roughly).
SPOT_LEVEL = {"DK1": 620.0, "DK2": 690.0}
LINKS_PER_POINT = 5


# -- progress and memory ----------------------------------------------------------------------
Describe = Callable[[asyncpg.Connection, float], Awaitable[str | None]]


class Monitor:
    """A thread with its own event loop and connection: prints the current phase's progress
    every second and samples this process's RSS every 0.1 s (peak per phase)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.process = psutil.Process()
        self._describe: Describe | None = None
        self._started = time.perf_counter()
        self._next_print = self._started + 1.0
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def phase(self, describe: Describe | None) -> None:
        """Report *describe* from now on; the RSS peak starts again from the current RSS."""
        self._started = time.perf_counter()
        self._next_print = self._started + 1.0  # lines at 1 s, 2 s, ... into the phase
        self.peak_rss = self.process.memory_info().rss
        self._describe = describe

    def _main(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings={"search_path": SCHEMA})
        try:
            while not self._stop.is_set():
                await asyncio.sleep(0.1)
                self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
                now = time.perf_counter()
                if now < self._next_print:
                    continue
                self._next_print += 1.0
                describe = self._describe
                if describe is None:
                    continue
                try:
                    line = await describe(conn, now - self._started)
                except Exception as exc:  # a progress line must never stop the benchmark
                    line = f"(progress unavailable: {type(exc).__name__}: {exc})"
                if line:
                    rss = self.process.memory_info().rss / MB
                    print(f"  {now - self._started:6.1f}s {line}, RSS {rss:,.0f} MB", flush=True)
        finally:
            await conn.close()


@dataclass
class Counter:
    """What a load step has done so far (written by the loader, read by the monitor)."""

    what: str
    total: int
    done: int = 0

    async def describe(self, _: asyncpg.Connection, elapsed: float) -> str:
        return (
            f"{self.what}: {self.done:>10,}/{self.total:,} "
            f"({self.done / max(elapsed, 1e-9):,.0f}/s)"
        )


def cpu_of_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_of_postgres() -> float:
    """CPU seconds of the live PostgreSQL processes (postmaster, backends, workers): backends
    that exited are not counted, so compare over a span where the connections stay open."""
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.name() == "postgres":
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


# -- the data ---------------------------------------------------------------------------------
def month_period(month: str) -> Period:
    return billing_period(month)


def gsrns(n: int) -> list[str]:
    return [gsrn_with_check_digit(f"5713131{k:010d}") for k in range(1, n + 1)]


def stable_uuid(space: int, k: int) -> uuid.UUID:
    """A deterministic UUID: *space* names the kind of id, *k* counts within it."""
    return uuid.UUID(int=(space << 96) | k)


async def load_master_data(
    db: Database, points: list[str], resolution: str, rng: np.random.Generator
) -> list[str]:
    areas = [a for a, _ in GRID_AREA_WEIGHTS]
    weights = np.array([w for _, w in GRID_AREA_WEIGHTS], dtype=float)
    chosen = rng.choice(len(areas), size=len(points), p=weights / weights.sum())
    grid_areas = [areas[i] for i in chosen]
    async with db.transaction() as tx:
        await tx.copy_records_to_table(
            "metering_points",
            schema_name=SCHEMA,
            columns=(
                "gsrn",
                "grid_area",
                "price_area",
                "metering_point_type",
                "settlement_method",
                "resolution",
            ),
            records=[
                (g, a, price_area(a), "E17", "D01", resolution)
                for g, a in zip(points, grid_areas, strict=True)
            ],
        )
    return grid_areas


def _charge(
    owner: str,
    kind: str,
    charge_id: str,
    name: str,
    resolution: str,
    series: PriceSeriesV1,
    effective: datetime,
    *,
    tax: bool = False,
    transparent: bool = True,
) -> list[ChargeReceivedV1]:
    """The charge's information (D18) and its prices (D08), as DataHub sends them."""
    common = {
        "owner_gln": owner,
        "charge_type": kind,
        "charge_id": charge_id,
    }
    return [
        ChargeReceivedV1(
            datahub_message_id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"D18/{owner}/{charge_id}")),
            process_type="D18",
            name=name,
            description=name,
            resolution=resolution,
            effective_date=effective,
            vat_payer="D02",
            transparent_invoicing=transparent,
            tax_indicator=tax,
            **common,
        ),
        ChargeReceivedV1(
            datahub_message_id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"D08/{owner}/{charge_id}")),
            process_type="D08",
            price_series=[series],
            **common,
        ),
    ]


def charge_events(period: Period) -> list[ChargeReceivedV1]:
    """Each grid company's tariff (24 local-hour prices, Tarifmodel 3.0) and subscription,
    and Energinet's charges, with prices from the month's first day (kept until superseded)."""
    first = period.start
    day_start = local_midnight(first)
    day_end = local_midnight(first + timedelta(days=1))
    month_end = local_midnight(period.end)
    effective = local_midnight(date(2020, 1, 1))
    hours = sim_charges.local_hours(first)
    events: list[ChargeReceivedV1] = []
    for area, owner in sim_charges.GRID_COMPANY_GLN.items():
        tariff = PriceSeriesV1(
            resolution="PT1H",
            start=day_start,
            end=day_end,
            prices=[sim_charges.grid_tariff(first, h) for h in hours],
        )
        subscription = PriceSeriesV1(
            resolution="P1M",
            start=day_start,
            end=month_end,
            prices=[sim_charges.GRID_SUBSCRIPTION_DKK_PER_MONTH],
        )
        events += _charge(
            owner,
            "D03",
            sim_charges.GRID_TARIFF_ID,
            f"Nettarif C time {area}",
            "PT1H",
            tariff,
            effective,
        )
        events += _charge(
            owner,
            "D01",
            sim_charges.GRID_SUBSCRIPTION_ID,
            f"Netabonnement C {area}",
            "P1M",
            subscription,
            effective,
            transparent=False,
        )
    for charge_id, name, price, tax in (
        (sim_charges.SYSTEM_TARIFF_ID, "Systemtarif", sim_charges.SYSTEM_TARIFF, False),
        (
            sim_charges.TRANSMISSION_TARIFF_ID,
            "Transmissions nettarif",
            sim_charges.TRANSMISSION_TARIFF,
            False,
        ),
        (
            sim_charges.ELECTRICITY_TAX_ID,
            "Elafgift",
            sim_charges.electricity_tax(first),
            True,
        ),
    ):
        series = PriceSeriesV1(resolution="P1D", start=day_start, end=day_end, prices=[price])
        events += _charge(
            charge_rules.ENERGINET_GLN, "D03", charge_id, name, "P1D", series, effective, tax=tax
        )
    return events


async def load_charges(
    db: Database, period: Period, points: list[str], grid_areas: list[str], counter: Counter
) -> int:
    """Charges through the consumer's handler; 5 links per metering point by COPY."""
    events = charge_events(period)
    async with db.transaction() as tx:
        for k, event in enumerate(events):
            await charge_store.apply_charge(tx, event, stable_uuid(1, k))
    energinet = [
        (charge_rules.ENERGINET_GLN, "D03", sim_charges.SYSTEM_TARIFF_ID),
        (charge_rules.ENERGINET_GLN, "D03", sim_charges.TRANSMISSION_TARIFF_ID),
        (charge_rules.ENERGINET_GLN, "D03", sim_charges.ELECTRICITY_TAX_ID),
    ]
    batch = 50_000
    k = 0
    for first in range(0, len(points), batch // LINKS_PER_POINT):
        records = []
        for gsrn, area in zip(
            points[first : first + batch // LINKS_PER_POINT],
            grid_areas[first : first + batch // LINKS_PER_POINT],
            strict=True,
        ):
            owner = sim_charges.GRID_COMPANY_GLN[area]
            keys = [
                (owner, "D03", sim_charges.GRID_TARIFF_ID),
                (owner, "D01", sim_charges.GRID_SUBSCRIPTION_ID),
                *energinet,
            ]
            for key in keys:
                k += 1
                records.append(
                    (
                        gsrn,
                        *key,
                        date(2021, 1, 1),
                        None,
                        1,
                        f"LNK{k:012d}",
                        f"MSG-LNK{k // 1000:08d}",
                        stable_uuid(2, k),
                    )
                )
        async with db.transaction() as tx:
            await tx.copy_records_to_table(
                "charge_links",
                schema_name=SCHEMA,
                columns=(
                    "gsrn",
                    "owner_gln",
                    "charge_type",
                    "charge_id",
                    "start_date",
                    "end_date",
                    "factor",
                    "transaction_id",
                    "datahub_message_id",
                    "event_id",
                ),
                records=records,
            )
        counter.done += len(records)
    return k


async def load_portfolio(
    db: Database, period: Period, points: list[str], rng: np.random.Generator
) -> None:
    """One spot product; per metering point a contract and an open supply period that began
    up to three years before the month."""
    async with db.transaction() as tx:
        await charge_store.apply_product_version(
            tx,
            ProductVersionPublishedV1(
                product_id=PRODUCT_ID,
                version=1,
                name="Spot",
                price_type="spot",
                margin_dkk_per_kwh=MARGIN,
                subscription_dkk_per_month=SUBSCRIPTION,
                green_energy=False,
                valid_from=date(2020, 1, 1),
            ),
            stable_uuid(3, 0),
        )
    back = rng.integers(1, 3 * 365, size=len(points))
    as_of = datetime(2021, 1, 1, tzinfo=UTC)
    contracts, supplies = [], []
    for k, (gsrn, days_back) in enumerate(zip(points, back.tolist(), strict=True)):
        start = period.start - timedelta(days=days_back)
        customer = str(stable_uuid(4, k))
        contracts.append(
            (
                str(stable_uuid(5, k)),
                gsrn,
                customer,
                None,
                PRODUCT_ID,
                1,
                start,
                None,
                "quarterly",
                "aconto",
                stable_uuid(6, k),
                as_of,
            )
        )
        supplies.append(
            (
                stable_uuid(7, k),
                gsrn,
                customer,
                start,
                None,
                "started",
                None,
                stable_uuid(8, k),
                as_of,
            )
        )
    async with db.transaction() as tx:
        await tx.copy_records_to_table(
            "contracts",
            schema_name=SCHEMA,
            columns=(
                "contract_id",
                "gsrn",
                "customer_id",
                "payer_id",
                "product_id",
                "product_version",
                "start_date",
                "end_date",
                "billing_frequency",
                "payment_model",
                "event_id",
                "as_of",
            ),
            records=contracts,
        )
        await tx.copy_records_to_table(
            "supply_periods",
            schema_name=SCHEMA,
            columns=(
                "supply_period_id",
                "gsrn",
                "customer_id",
                "start_date",
                "end_date",
                "reason",
                "process_id",
                "event_id",
                "as_of",
            ),
            records=supplies,
        )


def spot_file(period: Period, rng: np.random.Generator) -> bytes:
    """EDS's answer for the month, both areas: Elspotprices (hourly) before 2025-10-01,
    DayAheadPrices (quarters) from it; DKK/MWh with a morning and an evening peak."""
    records: list[dict[str, str]] = []
    for day in days_of(period):
        resolution = charge_rules.spot_resolution(day)
        for start in charge_rules.spot_intervals(day):
            local = start.astimezone(DANISH_TZ)
            hour = local.hour + local.minute / 60
            shape = (
                1.0
                + 0.35 * np.exp(-((hour - 8.5) ** 2) / 3)
                + 0.5 * np.exp(-((hour - 18) ** 2) / 4)
            )
            shape *= 0.75 if hour < 5 else 1.0
            stamp = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            for area, level in SPOT_LEVEL.items():
                price = round(level * shape * rng.uniform(0.8, 1.2), 2)
                if resolution == "PT1H":
                    records.append(
                        {"HourUTC": stamp, "PriceArea": area, "SpotPriceDKK": f"{price:.6f}"}
                    )
                else:
                    records.append(
                        {"TimeUTC": stamp, "PriceArea": area, "DayAheadPriceDKK": f"{price:.6f}"}
                    )
    return json.dumps({"records": records}).encode()


@dataclass(frozen=True)
class DayShape:
    day: date
    n: int
    profile: np.ndarray  # Wh per position for scale 1
    measured: tuple[int, ...]  # all A04


def day_shapes(period: Period, resolution: str) -> list[DayShape]:
    """A household's day by local time: a base load, a morning and an evening peak (Wh per
    hour, divided over the quarters at PT15M); DST days have 23/25 hours."""
    shapes = []
    per_hour = 4 if resolution == "PT15M" else 1
    for day in days_of(period):
        n = positions(day, resolution)
        start = local_midnight(day)
        local = [(start + i * STEPS[resolution]).astimezone(DANISH_TZ) for i in range(n)]
        hour = np.array([t.hour + t.minute / 60 for t in local])
        profile = (
            220
            + 180 * np.exp(-((hour - 7.5) ** 2) / 2)
            + 450 * np.exp(-((hour - 18.5) ** 2) / 6)
            - 60 * (hour < 5)
        ) / per_hour
        shapes.append(DayShape(day, n, profile, (4,) * n))
    return shapes


class DayMaker:
    """Makes the metering data of a slice of metering points, all days of the month."""

    def __init__(
        self, points: list[str], shapes: list[DayShape], resolution: str, seed: int
    ) -> None:
        self.points = points
        self.shapes = shapes
        self.resolution = resolution
        self.rng = np.random.default_rng(seed)
        self.scale = self.rng.uniform(0.5, 2.0, size=len(points))
        self.count = 0

    def make(self, first: int, last: int, batch_no: int) -> list[MeasureDay]:
        points = self.points[first:last]
        scale = self.scale[first:last, None]
        message = f"MSG-RSM012-{batch_no:08d}"
        days: list[MeasureDay] = []
        for shape in self.shapes:
            noise = self.rng.uniform(0.6, 1.4, size=(len(points), shape.n))
            wh = np.rint(scale * shape.profile * noise).astype(np.int64).tolist()
            estimated = self.rng.random(size=(len(points), shape.n)) < 0.005
            flagged = set(np.flatnonzero(estimated.any(axis=1)).tolist())
            for i, gsrn in enumerate(points):
                self.count += 1
                qualities = shape.measured
                if i in flagged:
                    qualities = tuple(3 if e else 4 for e in estimated[i].tolist())
                days.append(
                    MeasureDay(
                        gsrn=gsrn,
                        local_date=shape.day,
                        resolution=self.resolution,  # type: ignore[arg-type]
                        wh=tuple(wh[i]),
                        qualities=qualities,
                        datahub_message_id=message,
                        transaction_id=f"T{self.count:012d}",
                        original_transaction_id=None,
                        event_id=stable_uuid(9, self.count),
                    )
                )
        return days


@dataclass
class LoadTimes:
    steps: dict[str, float]
    metering_days: int = 0
    storing_s: float = 0.0

    def total(self) -> float:
        return sum(self.steps.values())


async def load_metering_data(
    db: Database,
    points: list[str],
    period: Period,
    resolution: str,
    seed: int,
    batch_days: int,
    counter: Counter,
    times: LoadTimes,
) -> None:
    shapes = day_shapes(period, resolution)
    maker = DayMaker(points, shapes, resolution, seed)
    per_batch = max(1, batch_days // len(shapes))
    slices = [(f, min(f + per_batch, len(points))) for f in range(0, len(points), per_batch)]

    async def store(days: list[MeasureDay]) -> None:
        t0 = time.perf_counter()
        async with db.transaction() as tx:
            await metering_data.store(tx, days)
        times.storing_s += time.perf_counter() - t0
        counter.done += len(days)

    # Make the next batch in a thread while this one is stored: PostgreSQL works on the
    # INSERT on one core while Python makes the data on the other.
    pending = asyncio.create_task(asyncio.to_thread(maker.make, *slices[0], 0))
    for k in range(len(slices)):
        days = await pending
        if k + 1 < len(slices):
            pending = asyncio.create_task(asyncio.to_thread(maker.make, *slices[k + 1], k + 1))
        await store(days)
        times.metering_days += len(days)


# -- the run ----------------------------------------------------------------------------------
@dataclass
class RunOutcome:
    run_id: uuid.UUID
    wall_s: float
    finished: bool  # False: stopped at --max-run-seconds
    view: dict[str, Any]
    server_s: float | None
    peak_rss: int
    rss_at_start: int
    cpu_self_s: float
    cpu_pg_s: float
    profile: str | None


async def settle_month(
    dsn: str, month: str, args: argparse.Namespace, monitor: Monitor
) -> RunOutcome:
    service = build(SettlementSettings(database_url=dsn, jobs=False))
    service.db = await Database(dsn, SCHEMA, max_size=4).open()
    try:
        run_id = await runs.start_run(service, month, None, "cli")
        assert run_id is not None

        async def describe(conn: asyncpg.Connection, elapsed: float) -> str:
            row = await conn.fetchrow("SELECT * FROM settlement_run WHERE run_id = $1", run_id)
            assert row is not None
            view = runs.run_view(row)
            p = view["progress"]
            return (
                f"run {view['status']}: {p['done']:>7,}/{p['total']:,} done "
                f"({p['settled']:,} settled, {p['blocked']:,} not) "
                f"{p['done'] / max(elapsed, 1e-9):,.0f} metering points/s"
            )

        kwargs: dict[str, Any] = {} if args.chunk is None else {"chunk": args.chunk}
        profiler = cProfile.Profile() if args.profile else None
        rss_at_start = psutil.Process().memory_info().rss
        cpu_self, cpu_pg = cpu_of_self(), cpu_of_postgres()
        monitor.phase(describe)
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        task = asyncio.create_task(runs.drain(service, workers=args.workers, **kwargs))
        done, _ = await asyncio.wait({task}, timeout=args.max_run_seconds)
        finished = bool(done)
        if finished:
            task.result()
        else:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        wall = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
        cpu_self, cpu_pg = cpu_of_self() - cpu_self, cpu_of_postgres() - cpu_pg
        peak = monitor.peak_rss
        monitor.phase(None)
        row = await service.database.fetchrow(
            """SELECT *, extract(epoch FROM finished_at - started_at) AS server_s
               FROM settlement_run WHERE run_id = $1""",
            run_id,
        )
        assert row is not None
        text = None
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            out.write("by own time:\n")
            stats.sort_stats("tottime").print_stats(args.profile)
            out.write("settlement's functions by cumulative time:\n")
            stats.sort_stats("cumulative").print_stats("wattline_settlement", args.profile)
            text = out.getvalue()
        return RunOutcome(
            run_id=run_id,
            wall_s=wall,
            finished=finished,
            view=runs.run_view(row),
            server_s=None if row["server_s"] is None else float(row["server_s"]),
            peak_rss=peak,
            rss_at_start=rss_at_start,
            cpu_self_s=cpu_self,
            cpu_pg_s=cpu_pg,
            profile=text,
        )
    finally:
        await service.database.close()


# -- the report -------------------------------------------------------------------------------
async def storage(conn: asyncpg.Connection, period: Period) -> list[tuple[str, int | None, int]]:
    """``(what, rows, bytes)`` of the month's data and what the run wrote."""
    partition = f"metering_data_{period.start:%Y_%m}"
    out: list[tuple[str, int | None, int]] = []
    for table in (partition, "settlement", "settlement_blocked", "settlement_run"):
        if await conn.fetchval("SELECT to_regclass($1)", table) is None:
            continue
        rows = await conn.fetchval(f"SELECT count(*) FROM {table}")
        size = await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
        out.append((table, rows, size))
    row = await conn.fetchrow(
        """SELECT count(*) AS n, coalesce(sum(pg_column_size(o.*)), 0) AS bytes
           FROM outbox o WHERE topic = 'settlement.completed'"""
    )
    assert row is not None
    out.append(("outbox rows settlement.completed (row data)", row["n"], row["bytes"]))
    out.append(
        (
            "outbox (table + TOAST + indexes, all rows)",
            await conn.fetchval("SELECT count(*) FROM outbox"),
            await conn.fetchval("SELECT pg_total_relation_size('outbox')"),
        )
    )
    return out


def mb(n: float) -> str:
    return f"{n / MB:,.1f} MB"


def goal_text(resolution: str, seconds: float, finished: bool, points: int) -> str:
    goal = GOAL_S[resolution]
    if points != GOAL_POINTS:
        return f"the goal <= {goal:.0f} s for {resolution} is for {GOAL_POINTS:,} metering points"
    if not finished:
        return f"goal <= {goal:.0f} s for {resolution} on {GOAL_CORES} cores: NOT MET (stopped)"
    verdict = "met" if seconds <= goal else "NOT MET"
    return f"goal <= {goal:.0f} s for {resolution} on {GOAL_CORES} cores: {verdict}"


async def read_floor(dsn: str, points: list[str], period: Period) -> tuple[float, int]:
    """Seconds for one bulk read of the month's metering data of *points* (the run's floor),
    and the metering points it found."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        started = time.perf_counter()
        found = await metering_data.bulk_latest(conn, points, period.start, period.end)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return elapsed, sum(len(series.gsrns) for series in found.values())


async def write_floor(dsn: str) -> tuple[float, int]:
    """Seconds to write the run's results again with one COPY (the settlements as stored,
    into a table like ``settlement`` with its indexes; the outbox rows likewise): the other
    half of the floor. The bytes were read out beforehand, so only the write is timed."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        written = 0
        elapsed = 0.0
        for table in ("settlement", "outbox"):
            copy = f"floor_{table}"
            await conn.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
            buffer = io.BytesIO()
            await conn.copy_from_table(table, output=buffer, format="binary")
            buffer.seek(0)
            written += buffer.getbuffer().nbytes
            started = time.perf_counter()
            await conn.copy_to_table(copy, source=buffer, format="binary")
            elapsed += time.perf_counter() - started
            await conn.execute(f"DROP TABLE {copy}")
    finally:
        await conn.close()
    return elapsed, written


async def run(args: argparse.Namespace) -> int:
    configure_logging("settlement-bench", level=args.log_level)
    async with throwaway_stack(fast_db=args.fast_db) as stack:
        return await _run(args, stack)


async def _run(args: argparse.Namespace, stack: Stack) -> int:
    dsn = stack.dsn
    period = month_period(args.month)
    n_days = (period.end - period.start).days
    conn = await asyncpg.connect(dsn)
    await migrations.apply(conn, SCHEMA, SETTLEMENT.migrations())
    pg_version = await conn.fetchval("SHOW server_version")
    await conn.close()
    print(
        f"postgres :{stack.pg_port} {pg_version} (fsync {'off' if args.fast_db else 'on'}), "
        f"settlement's migrations applied; {args.metering_points:,} metering points "
        f"{args.resolution}, {args.month} ({n_days} days), seed {args.seed}",
        flush=True,
    )
    monitor = Monitor(dsn)
    monitor.start()
    db = await Database(dsn, SCHEMA, max_size=2).open()
    rng = np.random.default_rng(args.seed)
    times = LoadTimes(steps={})
    points = gsrns(args.metering_points)

    t0 = time.perf_counter()
    grid_areas = await load_master_data(db, points, args.resolution, rng)
    times.steps["master data"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    counter = Counter("charge links", len(points) * LINKS_PER_POINT)
    monitor.phase(counter.describe)
    links = await load_charges(db, period, points, grid_areas, counter)
    times.steps["charges + links"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    monitor.phase(Counter("contracts + supply periods (one COPY each)", 2 * len(points)).describe)
    await load_portfolio(db, period, points, rng)
    times.steps["product, contracts, supply periods"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    spot = await pricing.import_spot_file(db, spot_file(period, rng), source="benchmark")
    times.steps["spot prices"] = time.perf_counter() - t0
    print(
        f"master data, {len(charge_events(period)) // 2} charges and {links:,} links, "
        f"{len(points):,} contracts and supply periods, {spot['inserted']:,} spot prices "
        f"loaded in {sum(times.steps.values()):.1f}s",
        flush=True,
    )

    t0 = time.perf_counter()
    counter = Counter("metering-point-days", len(points) * n_days)
    monitor.phase(counter.describe)
    await load_metering_data(
        db,
        points,
        period,
        args.resolution,
        args.seed + 1,
        args.load_batch,
        counter,
        times,
    )
    times.steps["metering data"] = time.perf_counter() - t0
    load_peak = monitor.peak_rss
    monitor.phase(None)
    md = times.steps["metering data"]
    print(
        f"metering data: {times.metering_days:,} metering-point-days in {md:.1f}s "
        f"= {times.metering_days / md:,.0f} days/s (inside metering_data.store "
        f"{times.storing_s:.1f}s; batches of ~{args.load_batch:,} days, one transaction each)",
        flush=True,
    )

    # What autovacuum would long have done to data that arrived over a month: without it the
    # run would pay for hint bits and the visibility map, and autovacuum would start during it.
    t0 = time.perf_counter()
    async with db.connection() as c:
        await c.execute("VACUUM (ANALYZE)")
    times.steps["VACUUM (ANALYZE)"] = time.perf_counter() - t0
    print(f"VACUUM (ANALYZE) in {times.steps['VACUUM (ANALYZE)']:.1f}s", flush=True)
    await db.close()

    outcome = await settle_month(dsn, args.month, args, monitor)
    monitor.stop()
    floor_s, floor_found = await read_floor(dsn, points, period)
    write_s, write_bytes = await write_floor(dsn)

    conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        sizes = await storage(conn, period)
        completed = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'settlement.completed'"
        )
        completed_distinct = await conn.fetchval(
            "SELECT count(DISTINCT key) FROM outbox WHERE topic = 'settlement.completed'"
        )
        stats = await conn.fetchrow(
            """SELECT count(*) AS n, count(DISTINCT gsrn) AS d,
                      avg(consumption_kwh) AS kwh, avg(total) AS total,
                      min(total) AS lo, max(total) AS hi, sum(total) AS sum
               FROM settlement WHERE run_id = $1""",
            outcome.run_id,
        )
        reasons = await conn.fetch(
            """SELECT reason, count(*) AS n FROM settlement_blocked WHERE run_id = $1
               GROUP BY reason ORDER BY n DESC LIMIT 3""",
            outcome.run_id,
        )
    finally:
        await conn.close()

    view, progress = outcome.view, outcome.view["progress"]
    settled = progress["settled"]
    done = progress["done"]
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in times.steps.items())
    rate = done / outcome.wall_s if outcome.wall_s else 0.0
    server = (
        "" if outcome.server_s is None else f"; run row started..finished {outcome.server_s:.1f}s"
    )
    print(
        f"\nRESULT settlement run {args.month}, {args.metering_points:,} metering points "
        f"{args.resolution} ({times.metering_days:,} metering-point-days)"
    )
    print(
        f"  data generation/load: {times.total():.1f}s ({steps}); metering data "
        f"{times.metering_days / md:,.0f} days/s"
    )
    if outcome.finished:
        print(
            f"  run wall time:        {outcome.wall_s:.1f}s  "
            f"[{goal_text(args.resolution, outcome.wall_s, True, args.metering_points)}]{server}"
        )
    else:
        projected = progress["total"] / rate if rate else float("inf")
        print(
            f"  run wall time:        STOPPED after {outcome.wall_s:.1f}s (--max-run-seconds), "
            f"{done:,}/{progress['total']:,} done; at this rate the run would take "
            f"~{projected:,.0f}s  [{goal_text(args.resolution, projected, False, args.metering_points)}]"
        )
    print(
        f"  rate:                 {rate:,.0f} metering points/s ({done:,} in {outcome.wall_s:.1f}s)"
    )
    floor = floor_s + write_s
    print(
        f"  floor:                {floor:.2f}s = one bulk read of the month's metering data for "
        f"all {floor_found:,} metering points {floor_s:.2f}s + one COPY of the results "
        f"(settlements and outbox, {mb(write_bytes)}) {write_s:.2f}s"
    )
    print(
        f"  ratio run / floor:    {outcome.wall_s / max(floor, 1e-9):.2f}  (goal <= 2, and <= 15 s "
        f"for {GOAL_POINTS:,} PT1H)"
    )
    print(
        f"  run status:           {view['status']}: {settled:,} settled, "
        f"{progress['blocked']:,} not settled" + (f" ({view['reason']})" if view["reason"] else "")
    )
    for r in reasons:
        print(f"    {r['n']:,} x {r['reason'][:200]}")
    print(f"  settlement.completed events in the outbox: {completed:,}")
    if stats is not None and stats["n"]:
        print(
            f"  settlements: {stats['n']:,}, mean {stats['kwh']:.1f} kWh and "
            f"{stats['total']:.2f} DKK incl. VAT (min {stats['lo']}, max {stats['hi']}, "
            f"sum {stats['sum']:,.2f} DKK)"
        )
    print(
        f"  peak memory:          ru_maxrss {mb(maxrss)} (this process, whole benchmark); "
        f"during the run {mb(outcome.peak_rss)} sampled every 0.1 s "
        f"({mb(outcome.rss_at_start)} at its start); during the load {mb(load_peak)}"
    )
    busy = outcome.cpu_self_s + outcome.cpu_pg_s
    print(
        f"  CPU during the run:   this process {outcome.cpu_self_s:.1f}s, PostgreSQL "
        f"~{outcome.cpu_pg_s:.1f}s ({busy / max(outcome.wall_s, 1e-9) * 100:.0f} % of one core "
        f"on average, of {os.cpu_count()} cores)"
    )
    print(f"  storage of the month ({args.month}):")
    total_bytes = 0
    for what, rows, size in sizes:
        per = f", {size / rows:,.0f} B/row" if rows else ""
        print(f"    {what:<48} {rows or 0:>10,} rows {mb(size):>12}{per}")
        if not what.startswith("outbox rows"):
            total_bytes += size
    print(
        f"    {'total (partition + settlement tables + outbox)':<48} {'':>15} {mb(total_bytes):>12}"
        f", {total_bytes / max(args.metering_points, 1) / 1024:,.1f} KiB per metering point"
    )
    vm = psutil.virtual_memory()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores "
        f"({len(os.sched_getaffinity(0))} usable), {vm.total / 1024**3:.1f} GiB RAM, "
        f"Python {sys.version.split()[0]}, PostgreSQL {pg_version} "
        f"(fsync {'off' if args.fast_db else 'on'}, shared_buffers 256MB); "
        f"run chunk {args.chunk or 'default'}"
    )
    if outcome.profile:
        print("\nprofile of the run (this process):")
        print(outcome.profile)
    n = args.metering_points
    checks = Checks()
    checks.check(
        outcome.finished and view["status"] == "completed",
        f"the run completed: {view['status']}" + (f" ({view['reason']})" if view["reason"] else ""),
    )
    checks.check(
        settled == done == progress["total"] == n and progress["blocked"] == 0,
        f"every metering point settled: {settled:,} settled, {progress['blocked']:,} not, of {n:,}",
    )
    stored, distinct = (stats["n"], stats["d"]) if stats is not None else (0, 0)
    checks.check(
        stored == distinct == n,
        f"one settlement row per metering point: {stored:,} rows, {distinct:,} GSRNs",
    )
    checks.check(
        completed == completed_distinct == n,
        f"one settlement.completed event per metering point: {completed:,} events, "
        f"{completed_distinct:,} keys",
    )
    return checks.exit_code()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metering-points", type=int, default=80_000)
    parser.add_argument("--resolution", choices=("PT1H", "PT15M"), default="PT1H")
    parser.add_argument("--month", default="2025-01", help="billing period YYYY-MM")
    parser.add_argument(
        "--chunk", type=int, default=None, help="items per run transaction (runs' default)"
    )
    parser.add_argument(
        "--load-batch", type=int, default=5_000, help="metering-point-days per store transaction"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="concurrent chunk workers in this process"
    )
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--max-run-seconds",
        type=float,
        default=None,
        help="stop the run after this long and report the rate so far",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile the run, print top N"
    )
    parser.add_argument("--fast-db", action="store_true", help="fsync off (as in tests)")
    parser.add_argument("--log-level", default="WARNING")
    args = parse_args(parser, {"metering_points": 20, "fast_db": True, "max_run_seconds": 120})
    billing_period(args.month)  # validates
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
