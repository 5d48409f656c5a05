"""Settlement runs and corrections: the jobs that turn stored data into settled periods.

A run settles every supply period of ours that overlaps a billing period (a local month),
clipped to it (partial periods at supply start and end), once: the settlement is keyed by
supply period and billing period, so running again settles only what was not settled
before and publishes nothing twice. Runs are jobs, claimed under a lease by any replica,
never work inside a consumer callback.

Corrections: when newer metering data arrives for a settled period, the supply period
changes (a move-in date corrected, a switch rolled back), or a charge price, charge link,
contract, spot price or master data changes back-dated into a settled period, exactly the
metering points settled in the affected days are queued for a recheck, with what changed
as the reason; the recheck settles the period again from the current data and publishes
the difference to what was settled so far (``settlement.correction``) with that reason.
A credited settlement is rechecked too: a supply period that is ours again (a rollback
reversed) restores it. Settled + corrections therefore always equal a fresh settlement of
the current data, to the øre.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from wattline_contracts.envelope import Event
from wattline_contracts.settlement import (
    ChargeAmountV1,
    ProductUsedV1,
    SettlementCompletedV1,
    SettlementCorrectionV1,
    SettlementLineV1,
)
from wattline_platform.business_days import danish_today
from wattline_platform.logging import correlation_id_var, get_logger

from wattline_settlement import metrics
from wattline_settlement.adapters import metering_data
from wattline_settlement.adapters import runs as store
from wattline_settlement.domain.model import (
    ChargeAmount,
    Line,
    Period,
    Result,
    charge_amounts_minus,
    is_no_change,
)
from wattline_settlement.inputs import Blocked, Inputs, bulk_groups, load_inputs
from wattline_settlement.settings import SettlementService

log = get_logger(__name__)
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def billing_period(value: str) -> Period:
    """``YYYY-MM`` as local dates [first day, first day of the next month)."""
    year, month = int(value[:4]), int(value[5:7])
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    return Period(start, end)


def billing_periods_of(period: Period) -> list[str]:
    """The billing periods (months) a period touches."""
    out, cursor = [], period.start.replace(day=1)
    while cursor < period.end:
        out.append(f"{cursor.year:04d}-{cursor.month:02d}")
        cursor = billing_period(out[-1]).end
    return out


@dataclass(frozen=True)
class Item:
    """A supply period of ours clipped to a billing period."""

    gsrn: str
    customer_id: str
    supply_period_id: str
    period: Period


def _charge_events(code: str, amounts: Sequence[ChargeAmount]) -> list[ChargeAmountV1]:
    return [
        ChargeAmountV1(
            charge_type=a.charge_type,
            charge_owner_gln=a.owner_gln,
            charge_id=a.charge_id,
            quantity_kwh=a.quantity_kwh,
            days=a.days,
            amount=a.amount,
        )
        for a in amounts
        if a.code == code
    ]


def _line_events(
    lines: Sequence[Line], amounts: Sequence[ChargeAmount] = ()
) -> list[SettlementLineV1]:
    out = []
    for line in lines:
        base = line.quantity_kwh if line.quantity_kwh else (line.days or None)
        unit = (line.amount / Decimal(base)).quantize(Decimal("0.000001")) if base else None
        out.append(
            SettlementLineV1(
                code=line.code,
                quantity_kwh=line.quantity_kwh,
                days=line.days,
                amount=line.amount,
                unit_price=unit,
                charges=_charge_events(line.code, amounts),
            )
        )
    return out


def _minus(a: Sequence[Line], b: Sequence[Line]) -> tuple[Line, ...]:
    """Line by line a minus b (codes in a's order; a code only in b counts as zero in a)."""
    by_code = {line.code: line for line in b}
    out = []
    codes = [line.code for line in a] + [c for c in by_code if c not in {x.code for x in a}]
    a_by = {line.code: line for line in a}
    for code in codes:
        x, y = a_by.get(code), by_code.get(code)

        def q(line: Line | None) -> Decimal | None:
            return None if line is None else line.quantity_kwh

        qx, qy = q(x), q(y)
        quantity = None if qx is None and qy is None else (qx or Decimal(0)) - (qy or Decimal(0))
        dx = x.days if x else None
        dy = y.days if y else None
        days = None if dx is None and dy is None else (dx or 0) - (dy or 0)
        amount = (x.amount if x else Decimal(0)) - (y.amount if y else Decimal(0))
        out.append(Line(code, quantity, days, amount + Decimal("0.00")))
    return tuple(out)


# -- runs ---------------------------------------------------------------------------------


async def start_run(
    service: SettlementService, billing: str, grid_area: str | None, trigger: str
) -> uuid.UUID | None:
    billing_period(billing)  # validates
    async with service.database.transaction() as tx:
        return await store.create_run(tx, billing, grid_area, trigger)


async def items_for(
    conn: asyncpg.Connection, billing: str, grid_area: str | None, gsrn: str | None = None
) -> list[Item]:
    """Our supply periods (of one metering point, or all) overlapping the billing period,
    clipped (rolled back ones excluded)."""
    period = billing_period(billing)
    rows = await conn.fetch(
        """SELECT sp.supply_period_id, sp.gsrn, sp.customer_id,
                  greatest(sp.start_date, $1) AS start_date,
                  least(coalesce(sp.end_date, $2), $2) AS end_date
           FROM supply_periods sp LEFT JOIN metering_points mp USING (gsrn)
           WHERE sp.reason <> 'rolled_back' AND sp.start_date < $2
             -- production is netted into its consumption; no master data: blocked, not skipped
             AND coalesce(mp.metering_point_type, 'E17') <> 'E18'
             AND coalesce(sp.end_date, $2) > $1
             AND ($3::text IS NULL OR mp.grid_area = $3)
             AND ($4::text IS NULL OR sp.gsrn = $4)
             AND greatest(sp.start_date, $1) < least(coalesce(sp.end_date, $2), $2)
           ORDER BY sp.gsrn, sp.start_date""",
        period.start,
        period.end,
        grid_area,
        gsrn,
    )
    return [
        Item(
            r["gsrn"],
            str(r["customer_id"]),
            str(r["supply_period_id"]),
            Period(r["start_date"], r["end_date"]),
        )
        for r in rows
    ]


async def work_once(
    service: SettlementService, *, chunk: int = 2000, lease_s: float = 300.0
) -> bool:
    """Claim one run and execute it; False when there was nothing to do."""
    async with service.database.transaction() as tx:
        run = await store.claim_run(tx, WORKER, lease_s)
        if run is not None:
            await store.reset_progress(tx, run["run_id"])
    if run is None:
        return False
    started = time.perf_counter()
    # A run is work that starts here: its id is its correlation id, in its log lines and in
    # the envelopes of the settlements it publishes (and so in invoicing's lines about them).
    token = correlation_id_var.set(str(run["run_id"]))
    try:
        outcome = await execute_run(service, run, chunk=chunk, lease_s=lease_s)
    except Exception as exc:
        log.exception("settlement_run_failed", run_id=str(run["run_id"]))
        async with service.database.transaction() as tx:
            await store.finish_run(tx, run["run_id"], WORKER, "failed", repr(exc)[:500])
        outcome = "failed"
    finally:
        correlation_id_var.reset(token)
    metrics.run_finished(outcome, time.perf_counter() - started)
    return True


async def execute_run(
    service: SettlementService, run: asyncpg.Record, *, chunk: int = 2000, lease_s: float = 300.0
) -> str:
    """Settle every item of the run not settled before, a chunk per transaction; returns
    the run's status (completed or blocked).

    Run again (a retry of a blocked run, or one taken over), it counts from scratch: every
    item in its scope now is in ``total``; those settled by an earlier attempt of this run
    count as ``settled``, those another run settled as ``already_settled``."""
    run_id, billing = run["run_id"], run["billing_period"]
    vat_rate = _vat_rate(service)
    async with service.database.connection() as conn:
        items = await items_for(conn, billing, run["grid_area"])
        done = await store.settled_by(conn, billing, [i.supply_period_id for i in items])
    todo = [i for i in items if i.supply_period_id not in done]
    own = sum(1 for settled_in in done.values() if settled_in == run_id)
    async with service.database.transaction() as tx:
        await store.progress(
            tx,
            run_id,
            WORKER,
            lease_s,
            total=len(items),
            done=len(done),
            settled=own,
            already_settled=len(done) - own,
        )
    log.info("settlement_run_started", run_id=str(run_id), period=billing, items=len(todo))
    reasons: list[str] = []
    for first in range(0, len(todo), chunk):
        part = todo[first : first + chunk]
        for attempt in range(1, 4):
            try:
                async with service.database.transaction() as tx:
                    settled, blocked, elsewhere = await _settle_chunk(
                        service, tx, run_id, billing, part, vat_rate
                    )
                    if not await store.progress(
                        tx,
                        run_id,
                        WORKER,
                        lease_s,
                        done=len(part),
                        settled=settled,
                        blocked=len(blocked),
                        already_settled=elsewhere,
                    ):
                        raise LeaseLost("the run's lease was lost to another worker")
                break
            except asyncpg.DeadlockDetectedError:
                if attempt == 3:
                    raise
                log.warning("settlement_chunk_retried", run_id=str(run_id), attempt=attempt)
        reasons += [reason for _, _, reason in blocked]
    summary = None
    if reasons:
        summary = f"{len(reasons)} not settled; first: {reasons[0]}"[:500]
    async with service.database.transaction() as tx:
        status = await store.finish_settled(tx, run_id, WORKER, summary)
        if status is None:
            raise LeaseLost("the run's lease was lost to another worker")
    log.info("settlement_run_finished", run_id=str(run_id), status=status)
    return str(status)


class LeaseLost(Exception):
    """Another worker took the run over (this one was too slow to renew its lease)."""


async def _settle_chunk(
    service: SettlementService,
    tx: asyncpg.Connection,
    run_id: uuid.UUID,
    billing: str,
    items: Sequence[Item],
    vat_rate: Decimal,
) -> tuple[int, list[tuple[str, str, str]], int]:
    """Settle *items* as they are now: their supply periods are read again and locked (a
    change waits for this chunk, then rechecks what it settled), metering data likewise.
    Returns (settled, blocked, found settled by another run meanwhile)."""
    # Metering-data writers hold this lock until they commit: holding it too, the chunk reads
    # every day committed before it, and data committed after it is seen by the correction job
    # together with the chunk's settlements.
    await metering_data.lock_writers(tx)
    period = billing_period(billing)
    rows = await tx.fetch(
        """SELECT supply_period_id, gsrn, customer_id,
                  greatest(start_date, $2) AS start_date,
                  least(coalesce(end_date, $3), $3) AS end_date
           FROM supply_periods WHERE supply_period_id = ANY($1::uuid[])
             AND reason <> 'rolled_back'
           ORDER BY supply_period_id FOR SHARE""",
        [i.supply_period_id for i in items],
        period.start,
        period.end,
    )
    current = [
        Item(r["gsrn"], str(r["customer_id"]), str(r["supply_period_id"]),
             Period(r["start_date"], r["end_date"]))
        for r in rows
        if r["start_date"] < r["end_date"]
    ]  # fmt: skip
    done = await store.settled_keys(tx, billing, [i.supply_period_id for i in current])
    todo = [i for i in current if i.supply_period_id not in done]
    settled, blocked = await _settle_bulk(service, tx, run_id, billing, todo, vat_rate)
    # Computed but inserted by a concurrent worker first: settled elsewhere as well.
    return settled, blocked, len(done) + len(todo) - len(blocked) - settled


def _vat_rate(service: SettlementService) -> Decimal:
    return service.settings.vat_rate


async def _settle_items(
    service: SettlementService,
    tx: asyncpg.Connection,
    run_id: uuid.UUID,
    billing: str,
    items: Sequence[Item],
    vat_rate: Decimal,
) -> tuple[int, list[tuple[str, str, str]]]:
    blocked: list[tuple[str, str, str]] = []
    computed: list[tuple[Item, Inputs, Result]] = []
    for item in items:
        try:
            inputs, result = await load_inputs(tx, item.gsrn, item.period, vat_rate)
        except Blocked as exc:
            blocked.append((item.gsrn, item.supply_period_id, str(exc)))
            continue
        computed.append((item, inputs, result))
    return await _store(service, tx, run_id, billing, computed, blocked, vat_rate)


async def _store(
    service: SettlementService,
    tx: asyncpg.Connection,
    run_id: uuid.UUID,
    billing: str,
    computed: Sequence[tuple[Item, Inputs, Result]],
    blocked: list[tuple[str, str, str]],
    vat_rate: Decimal,
) -> tuple[int, list[tuple[str, str, str]]]:
    """Store settlements (those not stored before) and publish them; record what was blocked."""
    rows: list[dict[str, Any]] = []
    for item, inputs, result in computed:
        settlement_id = uuid.uuid5(uuid.UUID(item.supply_period_id), billing)
        lines = store.lines_json(result.lines, result.charge_amounts)
        rows.append(
            {
                "settlement_id": settlement_id,
                "run_id": run_id,
                "gsrn": item.gsrn,
                "customer_id": uuid.UUID(item.customer_id),
                "supply_period_id": uuid.UUID(item.supply_period_id),
                "billing_period": billing,
                "grid_area": inputs.grid_area,
                "price_area": inputs.price_area,
                "period_start": item.period.start,
                "period_end": item.period.end,
                "consumption_kwh": result.consumption_kwh,
                "lines": lines,
                "subtotal": result.subtotal,
                "vat": result.vat,
                "total": result.total,
                "current_start": item.period.start,
                "current_end": item.period.end,
                "current_lines": lines,
                "current_subtotal": result.subtotal,
                "current_vat": result.vat,
                "current_total": result.total,
                "current_consumption_kwh": result.consumption_kwh,
                "data_id": inputs.data_id,
            }
        )
    settled = await store.insert_settlements(tx, rows)
    events: list[tuple[Event, str]] = []
    for row, (item, inputs, result) in zip(rows, computed, strict=True):
        if row["_new"]:
            events.append((_completed(row, item, inputs, result, vat_rate), item.gsrn))
    if events:
        await service.emit_many(tx, events)
        await _log_settled(tx, [row for row in rows if row["_new"]])
    if blocked:
        await store.add_blocked(tx, run_id, blocked)
    return settled, blocked


async def _log_settled(tx: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """One line per new settlement naming the DataHub messages its metering data came from
    (the latest version of each day settled), so `grep <DataHub MessageId>` finds the
    settlement, and its settlement_id then the invoice that billed it. Read in the chunk's
    transaction, under the metering-data lock: the same versions the settlement used."""
    spans = [metering_data.Span(r["gsrn"], r["period_start"], r["period_end"]) for r in rows]
    for row, message_ids in zip(rows, await metering_data.sources(tx, spans), strict=True):
        log.info(
            "settlement_settled",
            settlement_id=str(row["settlement_id"]),
            run_id=str(row["run_id"]),
            gsrn=row["gsrn"],
            period=row["billing_period"],
            total=str(row["total"]),
            datahub_message_ids=message_ids,
        )


async def _settle_bulk(
    service: SettlementService,
    tx: asyncpg.Connection,
    run_id: uuid.UUID,
    billing: str,
    items: Sequence[Item],
    vat_rate: Decimal,
) -> tuple[int, list[tuple[str, str, str]]]:
    """Settle many items at once: items whose prices are the same (period, price area, linked
    charges and product versions) share one price computation and are settled as one NumPy
    matrix, equal figure for figure to the Decimal path (see domain/bulk.py)."""
    computed: list[tuple[Item, Inputs, Result]] = []
    blocked: list[tuple[str, str, str]] = []
    async for group_items, outcome in bulk_groups(tx, items, vat_rate):
        if isinstance(outcome, str):
            blocked += [(i.gsrn, i.supply_period_id, outcome) for i in group_items]
        else:
            computed += outcome
    return await _store(service, tx, run_id, billing, computed, blocked, vat_rate)


def _completed(
    row: dict[str, Any], item: Item, inputs: Inputs, result: Result, vat_rate: Decimal
) -> SettlementCompletedV1:
    return SettlementCompletedV1(
        settlement_id=str(row["settlement_id"]),
        run_id=str(row["run_id"]),
        gsrn=item.gsrn,
        customer_id=item.customer_id,
        supply_period_id=item.supply_period_id,
        billing_period=row["billing_period"],
        period_start=item.period.start,
        period_end=item.period.end,
        grid_area=inputs.grid_area,
        price_area=inputs.price_area,
        resolution=inputs.resolution,
        products=[
            ProductUsedV1(
                product_id=p.product_id,
                product_version=p.version,
                start_date=p.start,
                end_date=p.end,
            )
            for p in inputs.products
        ],
        consumption_kwh=result.consumption_kwh,
        lines=_line_events(result.lines, result.charge_amounts),
        subtotal=result.subtotal,
        vat_rate=vat_rate,
        vat=result.vat,
        total=result.total,
    )


# -- corrections --------------------------------------------------------------------------


async def queue_changed_data(service: SettlementService, limit: int = 5000) -> int:
    """Queue a recheck for metering points with metering data newer than the watermark in a
    settled period (their own, or the consumption point a production point is netted into).
    Returns how many data rows were looked at."""
    async with service.database.transaction() as tx:
        since = await store.watermark(tx, "metering_data")
        # One statement, one snapshot: the watermark moves exactly past the rows looked at.
        seen = await tx.fetch(
            "SELECT id, gsrn, local_date FROM metering_data WHERE id > $1 ORDER BY id LIMIT $2",
            since,
            limit,
        )
        if not seen:
            return 0
        columns = (
            [r["gsrn"] for r in seen],
            [r["local_date"] for r in seen],
            [r["id"] for r in seen],
        )
        rows = await tx.fetch(
            """WITH md AS (SELECT * FROM unnest($1::text[], $2::date[], $3::int8[])
                           AS md(gsrn, local_date, id)),
                    target AS (
                        SELECT md.gsrn AS owner, md.* FROM md
                        UNION ALL
                        SELECT own.gsrn, md.* FROM md
                        JOIN metering_points mp ON mp.gsrn = md.gsrn
                             AND mp.metering_point_type = 'E18'
                        JOIN supply_periods prod ON prod.gsrn = md.gsrn
                        JOIN supply_periods own ON own.customer_id = prod.customer_id
                             AND own.gsrn <> md.gsrn)
               SELECT DISTINCT s.gsrn FROM target t
               JOIN settlement s ON s.gsrn = t.owner AND NOT s.credited AND t.id > s.data_id
                    AND t.local_date >= s.current_start AND t.local_date < s.current_end""",
            *columns,
        )
        if rows:
            await store.queue_recheck(tx, [r["gsrn"] for r in rows], "metering_data_corrected")
        await store.set_watermark(tx, "metering_data", int(seen[-1]["id"]))
    return len(seen)


RECHECK_RETRY_S = 300.0  # a recheck that cannot settle yet (data or prices missing) waits


async def recheck_some(service: SettlementService, limit: int = 50) -> int:
    """Recheck queued metering points, one transaction each; returns how many."""
    count = 0
    for _ in range(limit):
        async with service.database.transaction() as tx:
            row = await store.claim_recheck(tx)
            if row is None:
                break
            if await recheck(service, tx, row["gsrn"], row["reason"]):
                await store.queue_recheck(tx, [row["gsrn"]], row["reason"], RECHECK_RETRY_S)
        count += 1
    return count


async def recheck(
    service: SettlementService, tx: asyncpg.Connection, gsrn: str, reason: str
) -> bool:
    """Settle *gsrn*'s settled periods again and publish the differences; settle periods of
    completed billing periods that its supply now covers but were never settled. Returns
    True when something could not be settled yet (the caller tries again later)."""
    vat_rate = _vat_rate(service)
    # Credited ones too: a supply period ours again (a rollback reversed) restores them.
    settled = await tx.fetch(
        "SELECT * FROM settlement WHERE gsrn = $1 ORDER BY period_start FOR UPDATE", gsrn
    )
    events: list[tuple[Event, str]] = []
    blocked = False
    for row in settled:
        try:
            event = await _correct(tx, row, reason, vat_rate)
        except _NotYet:
            blocked = True
            continue
        if event is not None:
            events.append((event, gsrn))
    if events:
        await service.emit_many(tx, events)
    return await _settle_newly_covered(service, tx, gsrn, vat_rate) or blocked


# The reasons a recheck is queued with that a correction carries as they are.
CHANGE_REASONS = frozenset(
    {
        "metering_data_corrected",
        "charge_prices_changed",
        "charge_links_changed",
        "contract_changed",
        "spot_prices_changed",
        "master_data_changed",
    }
)


class _NotYet(Exception):
    """A settlement cannot be recalculated yet."""


async def _correct(
    tx: asyncpg.Connection, row: asyncpg.Record, reason: str, vat_rate: Decimal
) -> SettlementCorrectionV1 | None:
    supply = await tx.fetchrow(
        "SELECT * FROM supply_periods WHERE supply_period_id = $1", row["supply_period_id"]
    )
    billing = billing_period(row["billing_period"])
    clip: Period | None = None
    # What was queued says what changed (newer metering data, a back-dated price, link,
    # contract or master data), unless the supply period itself changed or was rolled back.
    why = reason if reason in CHANGE_REASONS else "metering_data_corrected"
    if supply is None or supply["reason"] == "rolled_back":
        why = "erroneous_switch"
    else:
        start = max(supply["start_date"], billing.start)
        end = min(supply["end_date"] or billing.end, billing.end)
        if start < end:
            clip = Period(start, end)
        if (start, end) != (row["current_start"], row["current_end"]):
            why = "supply_period_changed"
    current = store.lines_from_json(row["current_lines"])
    current_amounts = store.charge_amounts_from_json(row["current_lines"])
    new_amounts: tuple[ChargeAmount, ...] = ()
    if clip is None:  # nothing of it is ours (any more): credit what was settled in full
        new_lines = tuple(Line(x.code, _zero_q(x), _zero_d(x), Decimal("0.00")) for x in current)
        subtotal = vat = total = Decimal("0.00")
        consumption = Decimal("0.000")
        data_id = row["data_id"]
        start, end = row["current_start"], row["current_start"]
    else:
        try:
            inputs, result = await load_inputs(tx, row["gsrn"], clip, vat_rate)
        except Blocked as exc:
            log.warning("recheck_blocked", gsrn=row["gsrn"], reason=str(exc))
            raise _NotYet from None
        new_lines, subtotal, vat, total = result.lines, result.subtotal, result.vat, result.total
        new_amounts = result.charge_amounts
        consumption, data_id = result.consumption_kwh, inputs.data_id
        start, end = clip.start, clip.end
    delta = _minus(new_lines, current)
    delta_amounts = charge_amounts_minus(new_amounts, current_amounts)
    if (
        is_no_change(delta, delta_amounts)
        and (start, end) == (row["current_start"], row["current_end"])
        and consumption == row["current_consumption_kwh"]
    ):
        await tx.execute(
            "UPDATE settlement SET data_id = greatest(data_id, $2) WHERE settlement_id = $1",
            row["settlement_id"],
            data_id,
        )
        return None
    correction_id = uuid.uuid4()
    d_sub, d_vat, d_total = (
        subtotal - row["current_subtotal"],
        vat - row["current_vat"],
        total - row["current_total"],
    )
    d_kwh = consumption - row["current_consumption_kwh"]
    await tx.execute(
        """INSERT INTO settlement_correction (correction_id, settlement_id, reason, period_start,
               period_end, consumption_kwh, lines, subtotal, vat, total, data_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        correction_id,
        row["settlement_id"],
        why,
        start,
        end,
        d_kwh,
        store.lines_json(delta, delta_amounts),
        d_sub,
        d_vat,
        d_total,
        data_id,
    )
    await tx.execute(
        """UPDATE settlement SET current_start = $2, current_end = $3, current_lines = $4,
               current_subtotal = $5, current_vat = $6, current_total = $7,
               current_consumption_kwh = $8, data_id = greatest(data_id, $9), credited = $10
           WHERE settlement_id = $1""",
        row["settlement_id"],
        start,
        end,
        store.lines_json(new_lines, new_amounts),
        subtotal,
        vat,
        total,
        consumption,
        data_id,
        clip is None,
    )
    # The DataHub messages of the data newer than what was settled before: what corrected it.
    [newer] = await metering_data.sources(
        tx, [metering_data.Span(row["gsrn"], start, end, row["data_id"])]
    )
    log.info(
        "settlement_corrected",
        gsrn=row["gsrn"],
        period=row["billing_period"],
        reason=why,
        settlement_id=str(row["settlement_id"]),
        correction_id=str(correction_id),
        total=str(d_total),
        datahub_message_ids=newer,
    )
    return SettlementCorrectionV1(
        correction_id=str(correction_id),
        settlement_id=str(row["settlement_id"]),
        gsrn=row["gsrn"],
        customer_id=str(row["customer_id"]),
        billing_period=row["billing_period"],
        period_start=start,
        period_end=end,
        reason=why,
        consumption_kwh=d_kwh,
        lines=_line_events(delta, delta_amounts),
        subtotal=d_sub,
        vat=d_vat,
        total=d_total,
    )


def _zero_q(line: Line) -> Decimal | None:
    return None if line.quantity_kwh is None else Decimal("0.000")


def _zero_d(line: Line) -> int | None:
    return None if line.days is None else 0


async def _settle_newly_covered(
    service: SettlementService, tx: asyncpg.Connection, gsrn: str, vat_rate: Decimal
) -> bool:
    """Billing periods already run that the supply now covers but nobody settled (e.g. a
    move-in date corrected back into the previous month): settle them now, on behalf of the
    newest finished run of the period whose scope holds *gsrn* (never a run of another grid
    area), whose counts and status then include them."""
    not_yet = False
    for row in await store.newest_runs_covering(tx, gsrn):
        billing, run_id = row["billing_period"], row["run_id"]
        items = await items_for(tx, billing, None, gsrn)
        done = await store.settled_keys(tx, billing, [i.supply_period_id for i in items])
        todo = [i for i in items if i.supply_period_id not in done]
        if not todo:
            continue
        ids = [i.supply_period_id for i in todo]
        before = await store.blocked_in(tx, run_id, ids)
        _, blocked = await _settle_items(service, tx, run_id, billing, todo, vat_rate)
        stuck = {supply_period_id for _, supply_period_id, _ in blocked}
        await store.count_late_outcomes(tx, run_id, before, set(ids) - stuck, stuck)
        not_yet = not_yet or bool(blocked)
    return not_yet


# -- the background jobs ------------------------------------------------------------------


async def run_worker(service: SettlementService, interval_s: float = 1.0) -> None:
    """Execute queued runs (any replica; a run is claimed under a lease)."""
    while True:
        try:
            while await work_once(service):
                pass
        except Exception as exc:
            log.error("run_worker_failed", error=repr(exc))
        await asyncio.sleep(interval_s)


async def correction_worker(service: SettlementService, interval_s: float = 2.0) -> None:
    """Find settled periods with newer data or a changed supply period; publish deltas."""
    while True:
        try:
            await queue_changed_data(service)
            while await recheck_some(service) > 0:
                pass
        except Exception as exc:
            log.error("correction_worker_failed", error=repr(exc))
        await asyncio.sleep(interval_s)


async def schedule(
    service: SettlementService, after_days: int, deadline_days: int = 10, interval_s: float = 60.0
) -> None:
    """Start each billing period's scheduled run once (see :func:`schedule_due`), and retry
    blocked runs (:func:`retry_blocked`), every *interval_s*."""
    waiting: dict[str, tuple[Any, ...]] = {}
    while True:
        try:
            await schedule_due(service, after_days, deadline_days, waiting)
            await retry_blocked(service)
        except Exception as exc:
            log.error("settlement_schedule_failed", error=repr(exc))
        await asyncio.sleep(interval_s)


MAX_CATCH_UP_MONTHS = 12


def _months_to_schedule(newest: str | None, today: date) -> list[str]:
    """The months the schedule still has to start, oldest first: the previous month, and
    after a jump of the clock every month since the newest one it started (at most
    :data:`MAX_CATCH_UP_MONTHS`)."""
    month_start = today.replace(day=1)
    months: list[str] = []
    cursor = month_start - timedelta(days=1)
    while len(months) < MAX_CATCH_UP_MONTHS:
        billing = f"{cursor.year:04d}-{cursor.month:02d}"
        if months and (newest is None or billing <= newest):
            break
        months.append(billing)
        cursor = cursor.replace(day=1) - timedelta(days=1)
    return months[::-1]


async def schedule_due(
    service: SettlementService,
    after_days: int,
    deadline_days: int,
    waiting: dict[str, tuple[Any, ...]] | None = None,
) -> list[str]:
    """Start the scheduled runs that are due; returns the months whose run was queued.

    A month's run is recorded once, *after_days* after the month's end (Danish local dates;
    after a jump of the clock, every month since the newest one recorded), as ``waiting``.
    It is queued when the month's metering data is complete: every local day of the month
    inside each supply period of ours has its data, every value there
    (:func:`adapters.runs.incomplete_supply`, one statement per month). Late data (DataHub
    catching up, the simulator's clock jumped ahead of its deliveries) so holds the run back
    instead of blocking all of it; the run's ``reason`` says how much is missing. At the
    latest *deadline_days* after the month's end it is queued regardless, and what cannot be
    settled then is blocked and retried. *waiting* remembers the data's version at a month's
    last incomplete check, so an unchanged month is not counted again.
    """
    today = danish_today(await service.clock.now())
    async with service.database.transaction() as tx:
        for billing in _months_to_schedule(await store.newest_scheduled(tx), today):
            if today < billing_period(billing).end + timedelta(days=after_days):
                break  # and every later month
            if await store.create_run(tx, billing, None, "schedule", "waiting"):
                log.info("settlement_run_scheduled", period=billing)
    released = []
    async with service.database.connection() as conn:
        pending = await store.waiting_runs(conn)
    for run in pending:
        billing = run["billing_period"]
        period = billing_period(billing)
        deadline = period.end + timedelta(days=max(deadline_days, after_days))
        why = "deadline"
        if today < deadline:
            async with service.database.connection() as conn:
                version = await store.data_version(conn)
                if waiting is not None and waiting.get(billing) == version:
                    continue
                items, incomplete = await store.incomplete_supply(conn, period.start, period.end)
            if incomplete:
                if waiting is not None:
                    waiting[billing] = version
                reason = (
                    f"waiting for metering data: {incomplete} of {items} supply periods "
                    f"incomplete; starts by {deadline.isoformat()} regardless"
                )
                async with service.database.transaction() as tx:
                    await store.note_waiting(tx, run["run_id"], reason)
                log.info("settlement_run_waiting", period=billing, reason=reason)
                continue
            why = "data_complete"
        async with service.database.transaction() as tx:
            if await store.release_waiting(tx, run["run_id"]):
                log.info("settlement_run_queued", period=billing, why=why)
                released.append(billing)
        if waiting is not None:
            waiting.pop(billing, None)
    return released


RETRY_MAX_S = 6 * 3600.0


async def retry_blocked(
    service: SettlementService, after_s: float = 600.0, max_s: float = RETRY_MAX_S
) -> int:
    """Bring blocked runs to their final state, whichever run of the period is the newest:
    items settled meanwhile by another run or a correction stop counting as blocked (a run
    left with none is completed), and each run still blocked is queued again, *after_s*
    after it finished, doubling with each attempt up to *max_s*. Run again, it settles only
    what is still unsettled, in its own scope (period and grid area). Returns how many runs
    were queued again."""
    async with service.database.transaction() as tx:
        await tx.execute("SELECT pg_advisory_xact_lock(hashtext('settlement.retry_blocked'))")
        reconciled = await store.reconcile_blocked(tx)
        queued = await store.requeue_blocked(tx, after_s, max_s)
    for row in reconciled:
        log.info(
            "settlement_run_reconciled",
            run_id=str(row["run_id"]),
            period=row["billing_period"],
            status=row["status"],
        )
    for row in queued:
        log.info(
            "settlement_run_retried",
            run_id=str(row["run_id"]),
            period=row["billing_period"],
            attempt=row["attempts"] + 1,
        )
    return len(queued)


def run_view(row: asyncpg.Record) -> dict[str, Any]:
    """A run as back office sees it: the latest outcome of each of its items.

    ``progress.total`` is every item (supply period clipped to the month) in its scope at its
    latest attempt; ``settled`` those this run settled, ``already_settled`` those another
    run had settled (or settled meanwhile), ``blocked`` those still unsettled, with their
    reasons in the run's detail. A blocked run is run again in place until nothing of it is
    blocked (``attempts`` counts how often it ran), and an item settled elsewhere stops
    counting as blocked here, so a finished run's status is its final state: ``completed``
    when everything in its scope is settled, ``blocked`` while anything is not. A scheduled
    run is ``waiting`` (with the reason) until its month's metering data is complete.
    """
    return {
        "run_id": str(row["run_id"]),
        "billing_period": row["billing_period"],
        "grid_area": row["grid_area"],
        "trigger": row["trigger"],
        "status": row["status"],
        "progress": {
            "total": row["total_items"],
            "done": row["done_items"],
            "settled": row["settled_items"],
            "blocked": row["blocked_items"],
            "already_settled": row["already_settled_items"],
        },
        "attempts": row["attempts"],
        "reason": row["reason"],
        "requested_at": store.iso(row["requested_at"]),
        "started_at": store.iso(row["started_at"]),
        "finished_at": store.iso(row["finished_at"]),
    }


def settlement_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "settlement_id": str(row["settlement_id"]),
        "run_id": str(row["run_id"]),
        "gsrn": row["gsrn"],
        "customer_id": str(row["customer_id"]),
        "billing_period": row["billing_period"],
        "period": {"start": row["period_start"].isoformat(), "end": row["period_end"].isoformat()},
        "grid_area": row["grid_area"],
        "consumption_kwh": str(row["consumption_kwh"]),
        "lines": row["lines"],
        "subtotal": str(row["subtotal"]),
        "vat": str(row["vat"]),
        "total": str(row["total"]),
        "current_total": str(row["current_total"]),
        "credited": row["credited"],
        "invoice_id": row["invoice_id"],
        "invoiced_at": store.iso(row["invoiced_at"]),
    }
