"""Events from the datahub service: what became of our requests (sent, failed, answered),
and DataHub's news (RSM-022 master data, RSM-004 notifications). They never refuse what
DataHub already decided."""

from __future__ import annotations

from datetime import date

import asyncpg
from wattline_contracts.datahub import (
    MasterDataReceivedV1,
    NotificationReceivedV1,
    ProcessAnsweredV1,
    RequestFailedV1,
    RequestSentV1,
)
from wattline_contracts.envelope import Envelope
from wattline_contracts.portfolio import OffboardReason
from wattline_platform.business_days import danish_today
from wattline_platform.grid_areas import price_area
from wattline_platform.logging import get_logger

from wattline_portfolio.adapters import metering_points, store
from wattline_portfolio.domain.metering_point import MeteringPoint
from wattline_portfolio.domain.process import COMPLETED_BY_MASTER_DATA, Step
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.metering_points import store_metering_point
from wattline_portfolio.handlers.processes import STARTING, apply
from wattline_portfolio.handlers.supply import (
    activate,
    correct_start,
    end_period,
    reopen,
    roll_back,
)

log = get_logger(__name__)


def _reasons(answer: ProcessAnsweredV1) -> list[str]:
    return [f"{r.code}: {r.text}" if r.text else r.code for r in answer.reasons]


async def on_request_sent(
    p: Portfolio, tx: asyncpg.Connection, event: RequestSentV1, _: Envelope
) -> None:
    row = await store.process_by(tx, "request_id", event.request_id)
    if row is not None:
        process, steps = store.to_domain(row).sent()
        await apply(p, tx, row, process, steps, "datahub")
        return
    row = await store.process_by(tx, "cancel_request_id", event.request_id)
    if row is not None:
        step = Step(row["status"], "cancellation (RSM-002) received by DataHub")
        await store.add_timeline(tx, row["process_id"], [step], "datahub")


async def on_request_failed(
    p: Portfolio, tx: asyncpg.Connection, event: RequestFailedV1, _: Envelope
) -> None:
    reason = event.reason[:300]  # the datahub service's own words, maybe DataHub's response
    row = await store.process_by(tx, "request_id", event.request_id)
    if row is not None:
        process, steps = store.to_domain(row).send_failed(reason)
        await apply(p, tx, row, process, steps, "datahub", reasons=[reason])
        return
    row = await store.process_by(tx, "cancel_request_id", event.request_id)
    if row is not None:
        process, steps = store.to_domain(row).cancel_answered(False, [reason])
        await apply(p, tx, row, process, steps, "datahub")


async def on_process_answered(
    p: Portfolio, tx: asyncpg.Connection, event: ProcessAnsweredV1, _: Envelope
) -> None:
    reasons = _reasons(event)
    row = await store.process_by(tx, "transaction_id", event.original_transaction_id)
    if row is not None:
        process, steps = store.to_domain(row).answered(event.accepted, reasons)
        await apply(
            p,
            tx,
            row,
            process,
            steps,
            "datahub",
            reasons=reasons,
            datahub_reference=event.process_reference,
        )
        return
    row = await store.process_by(tx, "cancel_transaction_id", event.original_transaction_id)
    if row is not None:
        process, steps = store.to_domain(row).cancel_answered(event.accepted, reasons)
        await apply(p, tx, row, process, steps, "datahub", reasons=reasons)
        return
    log.warning("answer_for_unknown_request", transaction_id=event.original_transaction_id)


async def on_master_data(
    p: Portfolio, tx: asyncpg.Connection, event: MasterDataReceivedV1, _: Envelope
) -> None:
    """RSM-022: on the effective date of one of our processes it completes it (our supply
    starts, restarts or moves its start); otherwise it updates a metering point we supply."""
    row = await store.open_process(tx, event.gsrn, for_update=True)
    start = danish_today(event.supply_start or event.validity_start)
    if row is not None and _effectuates(row, event, start):
        mp = _metering_point(event)
        await store_metering_point(p.service, tx, mp)
        process, steps = store.to_domain(row).effectuated("master data (RSM-022) received")
        await apply(p, tx, row, process, steps, "datahub")
        if row["kind"] in STARTING:
            await activate(p, tx, row, start)
        elif row["kind"] == "BRS-011":
            await correct_start(p, tx, row, start)
        else:
            await reopen(p, tx, row)
        return
    if await metering_points.get(tx, event.gsrn) is not None:
        await store_metering_point(p.service, tx, _metering_point(event))


def _effectuates(row: asyncpg.Record, event: MasterDataReceivedV1, start: date) -> bool:
    """Whether this RSM-022 is the one that completes our open process *row*: a process that
    DataHub completes with master data, the same effective date, and DataHub's process id
    when both sides know it (a master-data update for the metering point is not)."""
    if row["kind"] not in COMPLETED_BY_MASTER_DATA or start != row["effective_date"]:
        return False
    reference, ours = event.process_reference, row["datahub_reference"]
    return reference is None or ours is None or reference == ours


async def on_notification(
    p: Portfolio, tx: asyncpg.Connection, event: NotificationReceivedV1, _: Envelope
) -> None:
    """RSM-004: another supplier takes over from a date (our supply ends the day before), or
    rolls back a switch to us (D07: the period was never ours). A notice for a date on or
    before our period's start (late or replayed) changes nothing."""
    day = danish_today(event.validity_start)
    if event.process_type == "D07":
        period = await store.period_starting(tx, event.gsrn, day)
        if period is not None:
            await roll_back(p, tx, period)
        return
    period = await store.current_period(tx, event.gsrn)
    if period is None or period["start_date"] >= day:
        log.warning("notification_ignored", gsrn=event.gsrn, date=day.isoformat())
        return
    # Another supplier's move-in means our customer moved out; anything else is a switch.
    reason: OffboardReason = "move_out" if event.process_type == "E65" else "switched_away"
    await end_period(p, tx, period, day, reason, None)


def _metering_point(event: MasterDataReceivedV1) -> MeteringPoint:
    area = price_area(event.grid_area)
    if area is None:
        raise ValueError(f"grid area {event.grid_area} has no known price area")
    return MeteringPoint(
        gsrn=event.gsrn,
        grid_area=event.grid_area,
        price_area=area,
        metering_point_type=event.metering_point_type,  # type: ignore[arg-type]
        settlement_method=event.settlement_method,  # type: ignore[arg-type]
        resolution=(event.resolution or "PT1H"),  # type: ignore[arg-type]
    )
