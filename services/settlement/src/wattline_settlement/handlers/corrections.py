"""Corrections: when newer metering data arrives for a settled period, the supply period
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

import uuid
from decimal import Decimal

import asyncpg
from wattline_contracts.envelope import Event
from wattline_contracts.settlement import SettlementCorrectionV1
from wattline_platform.logging import get_logger

from wattline_settlement.adapters import metering_data, supply_periods
from wattline_settlement.adapters import runs as store
from wattline_settlement.domain.billing import billing_period
from wattline_settlement.domain.corrections import what_changed, zeroed
from wattline_settlement.domain.model import (
    ChargeAmount,
    charge_amounts_minus,
    is_no_change,
    lines_minus,
)
from wattline_settlement.handlers.events import line_events
from wattline_settlement.handlers.inputs import Blocked, load_inputs
from wattline_settlement.handlers.runs import settle_items
from wattline_settlement.settings import SettlementService

log = get_logger(__name__)


async def queue_changed_data(service: SettlementService, limit: int = 5000) -> int:
    """Queue a recheck for metering points with metering data newer than the watermark in a
    settled period (their own, or the consumption point a production point is netted into).
    Returns how many data rows were looked at."""
    async with service.database.transaction() as tx:
        since = await store.watermark(tx, "metering_data")
        # One statement, one snapshot: the watermark moves exactly past the rows looked at.
        seen = await metering_data.rows_since(tx, since, limit)
        if not seen:
            return 0
        gsrns = await store.settled_with_newer_data(tx, seen)
        if gsrns:
            await store.queue_recheck(tx, gsrns, "metering_data_corrected")
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
    vat_rate = service.settings.vat_rate
    # As a run's chunk does: a settlement made here (newly covered) reads every day committed
    # before it, and a day committed after it waits for this transaction, so the watermark job
    # sees the settlement and queues the newer day against it (else its correction was lost).
    await metering_data.lock_writers(tx, shared=True)
    # Credited ones too: a supply period ours again (a rollback reversed) restores them.
    settled = await store.lock_settlements(tx, gsrn)
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


class _NotYet(Exception):
    """A settlement cannot be recalculated yet."""


async def _correct(
    tx: asyncpg.Connection, row: asyncpg.Record, reason: str, vat_rate: Decimal
) -> SettlementCorrectionV1 | None:
    supply = await supply_periods.get(tx, row["supply_period_id"])
    why, clip = what_changed(
        reason,
        None
        if supply is None or supply["reason"] == "rolled_back"
        else (supply["start_date"], supply["end_date"]),
        billing_period(row["billing_period"]),
        (row["current_start"], row["current_end"]),
    )
    current = store.lines_from_json(row["lines_now"])
    current_amounts = store.charge_amounts_from_json(row["lines_now"])
    new_amounts: tuple[ChargeAmount, ...] = ()
    if clip is None:  # nothing of it is ours (any more): credit what was settled in full
        new_lines = zeroed(current)
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
    delta = lines_minus(new_lines, current)
    delta_amounts = charge_amounts_minus(new_amounts, current_amounts)
    if (
        is_no_change(delta, delta_amounts)
        and (start, end) == (row["current_start"], row["current_end"])
        and consumption == row["current_consumption_kwh"]
    ):
        await store.advance_data_id(tx, row["settlement_id"], data_id)
        return None
    correction_id = uuid.uuid4()
    d_sub, d_vat, d_total = (
        subtotal - row["current_subtotal"],
        vat - row["current_vat"],
        total - row["current_total"],
    )
    d_kwh = consumption - row["current_consumption_kwh"]
    await store.add_correction(
        tx,
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
    await store.set_current(
        tx,
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
        lines=line_events(delta, delta_amounts),
        subtotal=d_sub,
        vat=d_vat,
        total=d_total,
    )


async def _settle_newly_covered(
    service: SettlementService, tx: asyncpg.Connection, gsrn: str, vat_rate: Decimal
) -> bool:
    """Billing periods already run that the supply now covers but nobody settled (e.g. a
    move-in date corrected back into the previous month): settle them now, on behalf of the
    newest finished run of the period whose scope holds *gsrn* (never a run of another grid
    area), whose counts and status then include them."""
    not_yet = False
    # A run of the period still to finish was planned (or will be) without a supply period
    # that arrived meanwhile: wait for it to finish, then settle on its behalf.
    for billing in await store.unfinished_runs_covering(tx, gsrn):
        items = await supply_periods.items(tx, billing_period(billing), None, gsrn)
        done = await store.settled_keys(tx, billing, [i.supply_period_id for i in items])
        not_yet = not_yet or any(i.supply_period_id not in done for i in items)
    for row in await store.newest_runs_covering(tx, gsrn):
        billing, run_id = row["billing_period"], row["run_id"]
        items = await supply_periods.items(tx, billing_period(billing), None, gsrn)
        done = await store.settled_keys(tx, billing, [i.supply_period_id for i in items])
        todo = [i for i in items if i.supply_period_id not in done]
        if not todo:
            continue
        ids = [i.supply_period_id for i in todo]
        before = await store.blocked_in(tx, run_id, ids)
        _, blocked = await settle_items(service, tx, run_id, billing, todo, vat_rate)
        stuck = {supply_period_id for _, supply_period_id, _ in blocked}
        await store.count_late_outcomes(tx, run_id, before, set(ids) - stuck, stuck)
        not_yet = not_yet or bool(blocked)
    return not_yet
