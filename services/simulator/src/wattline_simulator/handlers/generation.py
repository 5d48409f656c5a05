"""Daily generation: when the simulated clock passes a Danish local day, queue its data.

For each day, in one transaction (so a day is queued exactly once, also across restarts):

* ``MeasureData``: RSM-012 for every metering point our supplier supplies, bundled
  ``series_per_message`` series per document; about 1 % of the series carry an estimated
  (A03) block; then the corrections (all A04) of the estimates of earlier days.
* ``Wholesale``: RSM-034 price lists and RSM-031 charge links (see ``charges``).
* ``Aggregations``: one RSM-014 per grid area with the hourly totals of the values sent for
  our flex (D01) consumption (E17) metering points there, unless an ``aggregation_deviation``
  fault adds a known delta to one of them.
* ``Wholesale``, on the first day of a month: the month before's RSM-019 wholesale settlement
  per grid area and charge (see ``wholesale``), from the energy each day sent (recorded per
  day, corrections added).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import asyncpg
from wattline_cim import (
    ACTIVE_ENERGY,
    AggregationDocument,
    AggregationSeries,
    MeasurePoint,
    build_document,
    dumps,
)
from wattline_platform.db import Database

from wattline_simulator.adapters import market, store
from wattline_simulator.adapters import wholesale as wholesale_store
from wattline_simulator.domain.cimtext import SeriesHead, measure_document, points_text, series_text
from wattline_simulator.domain.faults import (
    AGGREGATION_DEVIATION_WH,
    budget,
    generation_fault,
)
from wattline_simulator.domain.market import (
    DayPlan,
    day_plan,
    due_days,
    hourly_sums,
    kwh_text,
    local_date,
    local_day_bounds,
    point_day,
)
from wattline_simulator.handlers import charges, wholesale
from wattline_simulator.settings import SimulatorSettings

IDS = uuid.UUID("2b8f0a53-3c1d-5e47-8a9b-0c6d4e1f7a25")
_COPY_CHUNK = 200  # documents per COPY: bounds the memory a day needs

DayHook = Callable[[asyncpg.Connection, datetime], Awaitable[None]]


def transaction_id(gsrn: str, day: date, kind: str = "E66") -> str:
    """The deterministic transaction id of a metering point's series for a day."""
    return str(uuid.uuid5(IDS, f"{kind}/{gsrn}/{day.isoformat()}"))


@dataclass
class _Batcher:
    """Bundles series into documents and documents into COPY chunks."""

    conn: asyncpg.Connection
    category: str
    document_type: str
    per_message: int
    receiver_gln: str
    created: datetime
    label: str
    series: list[str] = field(default_factory=list)
    gsrns: list[str] = field(default_factory=list)
    rows: list[tuple[str, str, str, bytes, str | None]] = field(default_factory=list)
    documents: int = 0
    series_count: int = 0

    async def add(self, gsrn: str, text: str) -> None:
        self.series.append(text)
        self.gsrns.append(gsrn)
        if len(self.series) >= self.per_message:
            await self._close_document()

    async def _close_document(self) -> None:
        if not self.series:
            return
        message_id = str(
            uuid.uuid5(
                IDS,
                f"{self.label}/{self.documents}/{self.gsrns[0]}/{self.gsrns[-1]}/{len(self.gsrns)}",
            )
        )
        body = measure_document(message_id, self.receiver_gln, self.created, self.series)
        self.rows.append((message_id, self.category, self.document_type, body, None))
        self.documents += 1
        self.series_count += len(self.series)
        self.series, self.gsrns = [], []
        if len(self.rows) >= _COPY_CHUNK:
            await self._flush()

    async def _flush(self) -> None:
        if self.rows:
            await store.enqueue_rows(self.conn, self.rows)
            self.rows = []

    async def finish(self) -> tuple[int, int]:
        await self._close_document()
        await self._flush()
        return self.documents, self.series_count


@dataclass
class _GridArea:
    hourly_wh: list[int]
    estimated_hours: set[int] = field(default_factory=set)
    metering_points: int = 0


@dataclass(frozen=True)
class DayResult:
    day: date
    documents: dict[str, int]
    series: dict[str, int]
    duration_ms: int


async def generate_day(
    conn: asyncpg.Connection, day: date, settings: SimulatorSettings
) -> DayResult:
    """Queue everything DataHub sends for *day* (the caller holds the generation lock and
    has checked the day is not generated yet)."""
    began = time.perf_counter()
    plan = day_plan(day)
    ours = settings.supplier_gln
    measure = _Batcher(
        conn,
        "MeasureData",
        "NotifyValidatedMeasureData",
        settings.series_per_message,
        ours,
        plan.end,
        f"E66/{day.isoformat()}",
    )
    areas: dict[str, _GridArea] = {}
    sent: dict[wholesale.Key, tuple[list[int], int]] = {}
    estimates: list[tuple[str, date, str, int, int]] = []
    for p in await market.supplied_points(conn, ours):
        gsrn, resolution = p["gsrn"], p["resolution"]
        values = point_day(gsrn, plan, p["profile"], resolution, p["annual_kwh"])
        tx_id = transaction_id(gsrn, day)
        head = SeriesHead(
            tx_id, gsrn, p["metering_point_type"], resolution, plan.start, plan.end, plan.end
        )
        await measure.add(gsrn, series_text(head, points_text(values.sent, values.estimated)))
        if values.estimated is not None:
            first, last = values.estimated
            estimates.append((gsrn, day, tx_id, first + 1, last))
        if p["metering_point_type"] == "E17":
            key = (p["grid_area"], "E17", p["settlement_method"])
            hourly_wh, count = sent.setdefault(key, ([0] * plan.hours, 0))
            for hour, wh in enumerate(hourly_sums(values.sent, resolution)):
                hourly_wh[hour] += wh
            sent[key] = (hourly_wh, count + 1)
        if p["metering_point_type"] == "E17" and p["settlement_method"] == "D01":
            area = areas.setdefault(p["grid_area"], _GridArea([0] * plan.hours))
            area.metering_points += 1
            for hour, wh in enumerate(hourly_sums(values.sent, resolution)):
                area.hourly_wh[hour] += wh
            if values.estimated is not None:
                step = 4 if resolution == "PT15M" else 1
                first, last = values.estimated
                area.estimated_hours.update(range(first // step, (last - 1) // step + 1))
    measure_counts = await measure.finish()
    if estimates:
        await market.add_estimates(conn, estimates)

    await wholesale_store.record_day(conn, day, sent)
    correction_counts = await _corrections(conn, day, plan, settings)
    wholesale_counts = await wholesale.queue_month(conn, day, plan.end, settings)
    aggregate_rows, aggregate_queue = await _aggregations(conn, day, plan, areas, settings)
    if aggregate_queue:
        await store.enqueue_rows(conn, aggregate_queue)
    charge_logs = await charges.generate_charges(conn, plan, settings)

    duration_ms = int((time.perf_counter() - began) * 1000)
    logs = [
        ("MeasureData", "measure", *measure_counts),
        ("MeasureData", "correction", *correction_counts),
        ("Aggregations", "aggregation", len(aggregate_queue), len(aggregate_queue)),
        *charge_logs,
        ("Wholesale", "wholesale", *wholesale_counts),
    ]
    await market.record_day(conn, day, plan.start, plan.end, duration_ms, logs, aggregate_rows)
    return DayResult(
        day,
        documents={
            "MeasureData": measure_counts[0] + correction_counts[0],
            "Aggregations": len(aggregate_queue),
            "Wholesale": sum(log[2] for log in charge_logs) + wholesale_counts[0],
        },
        series={
            "MeasureData": measure_counts[1] + correction_counts[1],
            "Aggregations": len(aggregate_queue),
            "Wholesale": sum(log[3] for log in charge_logs) + wholesale_counts[1],
        },
        duration_ms=duration_ms,
    )


async def _corrections(
    conn: asyncpg.Connection, day: date, plan: DayPlan, settings: SimulatorSettings
) -> tuple[int, int]:
    """Queue corrections (all A04) of the estimates of days before *day*."""
    pending = await market.pending_estimates(conn, day)
    batcher = _Batcher(
        conn,
        "MeasureData",
        "NotifyValidatedMeasureData",
        settings.series_per_message,
        settings.supplier_gln,
        plan.end,
        f"E66-correction/{day.isoformat()}",
    )
    plans: dict[date, DayPlan] = {}
    corrected: list[tuple[str, date, str]] = []
    deltas: dict[tuple[date, wholesale.Key], list[int]] = {}
    for e in pending:
        estimated_day: date = e["local_date"]
        old_plan = plans.get(estimated_day) or plans.setdefault(
            estimated_day, day_plan(estimated_day)
        )
        values = point_day(e["gsrn"], old_plan, e["profile"], e["resolution"], e["annual_kwh"])
        tx_id = transaction_id(e["gsrn"], estimated_day, "E66-correction")
        head = SeriesHead(
            tx_id,
            e["gsrn"],
            e["metering_point_type"],
            e["resolution"],
            old_plan.start,
            old_plan.end,
            plan.end,
            original_transaction_id=e["transaction_id"],
        )
        await batcher.add(e["gsrn"], series_text(head, points_text(values.values)))
        corrected.append((e["gsrn"], estimated_day, tx_id))
        if e["metering_point_type"] == "E17":
            key = (estimated_day, (e["grid_area"], "E17", e["settlement_method"]))
            delta = deltas.setdefault(key, [0] * old_plan.hours)
            was = hourly_sums(values.sent, e["resolution"])
            for hour, wh in enumerate(hourly_sums(values.values, e["resolution"])):
                delta[hour] += wh - was[hour]
    if corrected:
        await market.mark_corrected(conn, day, corrected)
        await wholesale_store.add_corrections(conn, deltas)
    return await batcher.finish()


async def _aggregations(
    conn: asyncpg.Connection,
    day: date,
    plan: DayPlan,
    areas: dict[str, _GridArea],
    settings: SimulatorSettings,
) -> tuple[
    list[tuple[str, str, str, int, Decimal, Decimal, int | None, Decimal | None]],
    list[tuple[str, str, str, bytes, str | None]],
]:
    """One RSM-014 per grid area; an ``aggregation_deviation`` fault skews some of them."""
    fault = generation_fault(await store.faults(conn), "aggregation_deviation", "Aggregations")
    deviating = budget(fault, len(areas))
    rows: list[tuple[str, str, str, int, Decimal, Decimal, int | None, Decimal | None]] = []
    queue: list[tuple[str, str, str, bytes, str | None]] = []
    for index, grid_area in enumerate(sorted(areas)):
        area = areas[grid_area]
        hourly = list(area.hourly_wh)
        position: int | None = None
        if index < deviating:
            # A fixed, findable position: the day's ordinal spread over the hours.
            position = 1 + (day.toordinal() + index) % plan.hours
            hourly[position - 1] += AGGREGATION_DEVIATION_WH
        tx_id = transaction_id(grid_area, day, "E31")
        message_id = str(uuid.uuid5(IDS, f"E31/{day.isoformat()}/{grid_area}/{sum(hourly)}"))
        document = AggregationDocument(
            message_id=message_id,
            receiver_gln=settings.supplier_gln,
            created=plan.end,
            series=(
                AggregationSeries(
                    transaction_id=tx_id,
                    version="1",
                    grid_area=grid_area,
                    metering_point_type="E17",
                    settlement_method="D01",
                    balance_responsible_gln=settings.balance_responsible_gln,
                    energy_supplier_gln=settings.supplier_gln,
                    product=ACTIVE_ENERGY,
                    resolution="PT1H",
                    start=plan.start,
                    end=plan.end,
                    points=tuple(
                        MeasurePoint(
                            position=hour + 1,
                            quantity=Decimal(kwh_text(wh)),
                            quality="A03" if hour in area.estimated_hours else None,
                        )
                        for hour, wh in enumerate(hourly)
                    ),
                ),
            ),
        )
        fault_kind = "aggregation_deviation" if position is not None else None
        queue.append(
            (
                message_id,
                "Aggregations",
                "NotifyAggregatedMeasureData",
                dumps(build_document(document)),
                fault_kind,
            )
        )
        rows.append(
            (
                grid_area,
                message_id,
                tx_id,
                area.metering_points,
                Decimal(kwh_text(sum(area.hourly_wh))),
                Decimal(kwh_text(sum(hourly))),
                position,
                None if position is None else Decimal(kwh_text(AGGREGATION_DEVIATION_WH)),
            )
        )
    if fault is not None and deviating:
        await store.consume_fault_uses(conn, fault, deviating)
    return rows, queue


async def days_to_generate(db: Database, settings: SimulatorSettings) -> list[date]:
    """The local days that have fully passed on the simulated clock and are not generated
    yet, oldest first."""
    async with db.connection() as conn:
        now = await store.now(conn) or settings.start
        done = await market.generated_days(conn)
    return [day for day in due_days(local_date(settings.start), now) if day not in done]


async def generate_due_day(
    db: Database, day: date, settings: SimulatorSettings, before_day: DayHook | None = None
) -> DayResult | None:
    """Generate *day* in one transaction under the generation lock (None: another caller
    generated it first). *before_day* runs in that transaction first, with the day's start
    (e.g. to complete processes effective by then)."""
    async with db.transaction() as tx:
        await market.lock_generation(tx)
        if await market.is_generated(tx, day):
            return None
        if before_day is not None:
            await before_day(tx, local_day_bounds(day)[0])
        return await generate_day(tx, day, settings)
