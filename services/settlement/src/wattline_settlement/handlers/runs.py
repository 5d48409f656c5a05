"""Settlement runs: the job that turns stored data into settled periods.

A run settles every supply period of ours that overlaps a billing period (a local month),
clipped to it (partial periods at supply start and end), once: the settlement is keyed by
supply period and billing period, so running again settles only what was not settled
before and publishes nothing twice. Runs are jobs, planned into chunks that any replica
claims (:func:`work_once`, looped by ``jobs/runs.py``), never work inside a consumer
callback. What changes after a period was settled is corrected by
``handlers/corrections.py``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from wattline_contracts.settlement import SettlementCompletedV1
from wattline_platform.business_days import danish_today
from wattline_platform.logging import correlation_id_var, get_logger

from wattline_settlement import metrics
from wattline_settlement.adapters import json_rows, metering_data, supply_periods
from wattline_settlement.adapters import run_chunks as chunks_store
from wattline_settlement.adapters import runs as store
from wattline_settlement.domain.billing import Item, billing_period, months_to_schedule
from wattline_settlement.domain.model import Result
from wattline_settlement.handlers.events import completed, render_group
from wattline_settlement.handlers.inputs import (
    Blocked,
    BulkGroup,
    Inputs,
    bulk_groups,
    load_inputs,
)
from wattline_settlement.settings import SettlementService

log = get_logger(__name__)
WORKER = f"{socket.gethostname()}:{os.getpid()}"


async def start_run(
    service: SettlementService, billing: str, grid_area: str | None, trigger: str
) -> uuid.UUID | None:
    """Queue a run of the billing period *billing* (``YYYY-MM``), of one grid area or all."""
    billing_period(billing)  # validates
    async with service.database.transaction() as tx:
        return await store.create_run(tx, billing, grid_area, trigger)


async def work_once(
    service: SettlementService,
    *,
    chunk: int = 2000,
    lease_s: float = 300.0,
    worker: str = WORKER,
) -> bool:
    """Do one piece of run work: settle a chunk of a running run, or else plan the oldest
    queued run into chunks of *chunk* items; False when there was nothing to do.

    Any number of workers (replicas, or tasks of one) share a run this way, each chunk
    settled once:

    * **Planning** claims the run row (``FOR UPDATE SKIP LOCKED``), counts its items from
      scratch (those an earlier attempt settled as ``settled``, those another run settled as
      ``already_settled``) and writes the rest as chunks, in one transaction: a planner that
      dies leaves the run queued. A run with nothing left to settle finishes there.
    * **A chunk** is claimed in the transaction that settles it, its row locked until that
      transaction ends (``FOR UPDATE SKIP LOCKED``: other workers take the next one). It is
      marked done and counted into the run in the same transaction, so a worker killed
      mid-chunk (its connection closed, its transaction rolled back by PostgreSQL) leaves the
      chunk to do, free at once for any other worker: no lease to run out, nothing half
      done. The settlement's unique key (supply period, billing period) stays the last
      guard: an item settled by anyone else meanwhile counts as ``already_settled``.
    * **The last chunk** finishes the run in its own transaction: the run row's lock (the
      chunk's count is its last statement) orders the chunks' commits, so exactly one sees
      no chunk left.

    *lease_s* is the lease of a run still running under the one-worker scheme of before
    (a run left running by an older version is planned again once it expires)."""
    for attempt in range(1, 4):
        try:
            outcome = await _settle_next_chunk(service, worker)
            break
        except asyncpg.DeadlockDetectedError:
            if attempt == 3:
                raise
            log.warning("settlement_chunk_retried", attempt=attempt)
    if outcome is not None:
        return outcome
    return await _plan_next_run(service, chunk, lease_s, worker)


async def drain(service: SettlementService, *, workers: int = 2, chunk: int = 2000) -> None:
    """Work until no run is queued and none has chunks left, with *workers* concurrent
    workers in this process: while one settles a chunk in Python, another's reads and writes
    run in PostgreSQL (a chunk another replica holds is waited for)."""

    async def one() -> None:
        while True:
            if await work_once(service, chunk=chunk):
                continue
            async with service.database.connection() as conn:
                if not await chunks_store.open_work(conn):
                    return
            await asyncio.sleep(0.05)  # another worker holds the last chunks

    await asyncio.gather(*(one() for _ in range(workers)))


async def _plan_next_run(
    service: SettlementService, chunk: int, lease_s: float, worker: str
) -> bool:
    async with service.database.transaction() as tx:
        run = await store.claim_run(tx, worker, lease_s)
        if run is None:
            return False
        run_id, billing = run["run_id"], run["billing_period"]
        token = correlation_id_var.set(str(run_id))
        try:
            await store.reset_progress(tx, run_id)
            items = await supply_periods.items(tx, billing_period(billing), run["grid_area"])
            done = await store.settled_by(tx, billing, [i.supply_period_id for i in items])
            todo = [i.supply_period_id for i in items if i.supply_period_id not in done]
            own = sum(1 for settled_in in done.values() if settled_in == run_id)
            await store.progress(
                tx,
                run_id,
                worker,
                lease_s,
                total=len(items),
                done=len(done),
                settled=own,
                already_settled=len(done) - own,
            )
            parts = [todo[first : first + chunk] for first in range(0, len(todo), chunk)]
            await chunks_store.plan(tx, run_id, parts)
            log.info(
                "settlement_run_started",
                run_id=str(run_id),
                period=billing,
                items=len(todo),
                chunks=len(parts),
            )
            finished = await _finish(tx, run_id) if not parts else None
        finally:
            correlation_id_var.reset(token)
    if finished is not None:
        metrics.run_finished(*finished)
    return True


async def _settle_next_chunk(service: SettlementService, worker: str) -> bool | None:
    """Settle the next chunk to do (see :func:`work_once`); None when there is none."""
    finished: tuple[str, float | None] | None = None
    try:
        async with service.database.transaction() as tx:
            part = await chunks_store.claim(tx)
            if part is None:
                return None
            token = correlation_id_var.set(str(part.run_id))
            try:
                async with tx.transaction():  # a savepoint: a chunk that fails fails its run
                    finished = await _settle_claimed(service, tx, part, worker)
            except (asyncpg.DeadlockDetectedError, RunStopped):
                raise
            except Exception as exc:
                log.exception("settlement_run_failed", run_id=str(part.run_id))
                finished = ("failed", await chunks_store.fail(tx, part.run_id, repr(exc)))
            finally:
                correlation_id_var.reset(token)
    except RunStopped as exc:
        log.warning("settlement_chunk_dropped", reason=str(exc))
        return True
    if finished is not None:
        status, seconds = finished
        if seconds is not None:  # None: another worker had failed or finished the run
            metrics.run_finished(status, seconds)
    return True


async def _settle_claimed(
    service: SettlementService, tx: asyncpg.Connection, part: chunks_store.Chunk, worker: str
) -> tuple[str, float | None] | None:
    """Settle the claimed chunk and count it into its run; the run's status and seconds when
    this was its last chunk."""
    settled, blocked, elsewhere = await _settle_chunk(
        service, tx, part.run_id, part.billing_period, part.supply_period_ids, _vat_rate(service)
    )
    left = await chunks_store.done(
        tx,
        part,
        worker,
        done=len(part.supply_period_ids),
        settled=settled,
        blocked=len(blocked),
        already_settled=elsewhere,
    )
    if left is None:
        raise RunStopped("the run stopped running (failed) while this chunk was settled")
    if left > 0:
        return None
    return await _finish(tx, part.run_id)


async def _finish(tx: asyncpg.Connection, run_id: uuid.UUID) -> tuple[str, float]:
    status, seconds = await chunks_store.finish(tx, run_id)
    log.info("settlement_run_finished", run_id=str(run_id), status=status)
    return status, seconds


class RunStopped(Exception):
    """The run of a chunk stopped running meanwhile (another worker failed it)."""


async def _settle_chunk(
    service: SettlementService,
    tx: asyncpg.Connection,
    run_id: uuid.UUID,
    billing: str,
    supply_period_ids: Sequence[str],
    vat_rate: Decimal,
) -> tuple[int, list[tuple[str, str, str]], int]:
    """Settle the supply periods *supply_period_ids* as they are now: read again and locked
    (a change waits for this chunk, then rechecks what it settled), metering data likewise.
    Returns (settled, blocked, found settled by another run meanwhile)."""
    # Metering-data writers hold this lock until they commit: holding it too, the chunk reads
    # every day committed before it, and data committed after it is seen by the correction job
    # together with the chunk's settlements.
    await metering_data.lock_writers(tx, shared=True)
    current = await supply_periods.lock_items(tx, supply_period_ids, billing_period(billing))
    done = await store.settled_keys(tx, billing, [i.supply_period_id for i in current])
    todo = [i for i in current if i.supply_period_id not in done]
    settled, blocked = await _settle_bulk(service, tx, run_id, billing, todo, vat_rate)
    # Computed but inserted by a concurrent worker first: settled elsewhere as well.
    return settled, blocked, len(done) + len(todo) - len(blocked) - settled


def _vat_rate(service: SettlementService) -> Decimal:
    return service.settings.vat_rate


async def settle_items(
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
    return await _store(service, tx, run_id, billing, computed, [], blocked, vat_rate)


async def _store(
    service: SettlementService,
    tx: asyncpg.Connection,
    run_id: uuid.UUID,
    billing: str,
    computed: Sequence[tuple[Item, Inputs, Result]],
    groups: Sequence[BulkGroup],
    blocked: list[tuple[str, str, str]],
    vat_rate: Decimal,
) -> tuple[int, list[tuple[str, str, str]]]:
    """Store settlements (those not stored before) and publish them; record what was blocked.
    *computed* are settled one by one, *groups* as matrices (rendered at once)."""
    rows = [_result_row(run_id, billing, *c, vat_rate) for c in computed]
    for group in groups:
        rows += _group_rows(run_id, billing, group, vat_rate)
    # In key order: two runs' chunks inserting shared keys in opposite orders would deadlock.
    rows.sort(key=lambda row: row["supply_period_id"])
    settled = await store.insert_settlements(tx, rows)
    new = [row for row in rows if row["_new"]]
    if new:
        await service.emit_payloads(
            tx, SettlementCompletedV1, [(row["gsrn"], row["_payload"]) for row in new]
        )
        await _log_settled(tx, new)
    if blocked:
        await store.add_blocked(tx, run_id, blocked)
    return settled, blocked


def _row(
    run_id: uuid.UUID,
    billing: str,
    item: Item,
    inputs: Inputs,
    figures: tuple[Decimal, str, Decimal, Decimal, Decimal],
    payload: str,
) -> dict[str, Any]:
    """A settlement row as stored; *figures*: consumption, lines (jsonb text), subtotal, VAT,
    total; *payload*: its settlement.completed (JSON)."""
    consumption, lines, subtotal, vat, total = figures
    return {
        "settlement_id": uuid.uuid5(uuid.UUID(item.supply_period_id), billing),
        "run_id": run_id,
        "gsrn": item.gsrn,
        "customer_id": uuid.UUID(item.customer_id),
        "supply_period_id": uuid.UUID(item.supply_period_id),
        "billing_period": billing,
        "grid_area": inputs.grid_area,
        "price_area": inputs.price_area,
        "period_start": item.period.start,
        "period_end": item.period.end,
        "consumption_kwh": consumption,
        "lines": lines,
        "subtotal": subtotal,
        "vat": vat,
        "total": total,
        "current_start": item.period.start,
        "current_end": item.period.end,
        "current_lines": None,  # as first settled, until a correction
        "current_subtotal": subtotal,
        "current_vat": vat,
        "current_total": total,
        "current_consumption_kwh": consumption,
        "data_id": inputs.data_id,
        "_payload": payload,
    }


def _result_row(
    run_id: uuid.UUID,
    billing: str,
    item: Item,
    inputs: Inputs,
    result: Result,
    vat_rate: Decimal,
) -> dict[str, Any]:
    """The row of a settlement made one by one, its event made by the contract's model."""
    head = {
        "settlement_id": uuid.uuid5(uuid.UUID(item.supply_period_id), billing),
        "run_id": run_id,
        "billing_period": billing,
    }
    lines = json_rows.dumps(store.lines_json(result.lines, result.charge_amounts))
    figures = (result.consumption_kwh, lines, result.subtotal, result.vat, result.total)
    payload = completed(head, item, inputs, result, vat_rate).model_dump_json()
    return _row(run_id, billing, item, inputs, figures, payload)


def _group_rows(
    run_id: uuid.UUID, billing: str, group: BulkGroup, vat_rate: Decimal
) -> list[dict[str, Any]]:
    """The rows of a group settled as one matrix: rendered at once from templates
    (``events.render_group``), but for the few rows its figures leave to their Result."""
    bulk = group.bulk
    figures = bulk.figures()
    fast = figures.rows.tolist()
    slow = sorted(set(range(len(bulk))) - set(fast))
    rows = [
        _result_row(run_id, billing, group.items[r], group.inputs_of(r), bulk.result(r), vat_rate)
        for r in slow
    ]
    if not fast:
        return rows
    items = [group.items[r] for r in fast]
    settlement_ids = [str(uuid.uuid5(uuid.UUID(i.supply_period_id), billing)) for i in items]
    head = {"settlement_id": settlement_ids[0], "run_id": run_id, "billing_period": billing}
    rendered = render_group(
        bulk,
        figures,
        (head, items[0], group.inputs_of(fast[0])),
        {
            "settlement_id": settlement_ids,
            "gsrn": [i.gsrn for i in items],
            "customer_id": [i.customer_id for i in items],
            "supply_period_id": [i.supply_period_id for i in items],
        },
        vat_rate,
    )
    for k, (r, item) in enumerate(zip(fast, items, strict=True)):
        figures_k = (
            rendered.consumption_kwh[k],
            rendered.lines[k],
            rendered.subtotal[k],
            rendered.vat[k],
            rendered.total[k],
        )
        rows.append(
            _row(run_id, billing, item, group.inputs_of(r), figures_k, rendered.payloads[k])
        )
    return rows


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
    groups: list[BulkGroup] = []
    blocked: list[tuple[str, str, str]] = []
    async for group_items, outcome in bulk_groups(tx, items, vat_rate):
        if isinstance(outcome, str):
            blocked += [(i.gsrn, i.supply_period_id, outcome) for i in group_items]
        elif isinstance(outcome, BulkGroup):
            groups.append(outcome)
        else:
            computed += outcome
    return await _store(service, tx, run_id, billing, computed, groups, blocked, vat_rate)


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
        for billing in months_to_schedule(await store.newest_scheduled(tx), today):
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
        await store.lock_retries(tx)
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
