"""RSM-001 requests answered by DataHub's rules, and their completion on the effective date.

A request is answered at once in ``MasterData`` (confirm A01 / reject A02 with reasons). A
confirmed process stays open until the simulated clock passes its effective date; then the
metering point changes supplier, the new supplier (if it is ours) gets RSM-022 master data,
and the previous supplier, if it is ours, gets an RSM-004 E44 (our supply ends).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

import asyncpg
from wattline_cim import (
    AccountingPointCharacteristics,
    Address,
    AnswerTransaction,
    CancelAnswer,
    CancelRequest,
    ChangeOfSupplierAnswer,
    ChangeOfSupplierRequest,
    GenericNotification,
)

from wattline_simulator.adapters import market, store
from wattline_simulator.adapters import processes as process_store
from wattline_simulator.domain.market import OTHER_SUPPLIER_GLN
from wattline_simulator.domain.processes import (
    ENDING_PROCESSES,
    HANDLED_PROCESSES,
    Limits,
    PointState,
    Reason,
    Request,
    decide,
)
from wattline_simulator.domain.seeding import customer_key
from wattline_simulator.settings import SimulatorSettings


def limits(settings: SimulatorSettings) -> Limits:
    return Limits(
        min_days_ahead=settings.change_of_supplier_min_days_ahead,
        max_days_ahead=settings.change_of_supplier_max_days_ahead,
        move_in_business_days_back=settings.move_in_max_business_days_back,
        move_in_max_days_ahead=settings.move_in_max_days_ahead,
    )


async def answer_request(
    conn: asyncpg.Connection,
    request: ChangeOfSupplierRequest,
    settings: SimulatorSettings,
    now: datetime,
) -> ChangeOfSupplierAnswer | None:
    """Decide an RSM-001 request, record the process and queue the answer (None: a process
    type the simulator does not run: accepted without an answer)."""
    if request.process_type not in HANDLED_PROCESSES:
        return None
    await market.lock_generation(conn)
    point = await market.metering_point(conn, request.gsrn)
    key = (
        customer_key(request.customer_scheme, request.customer_id)
        if request.customer_scheme is not None and request.customer_id is not None
        else None
    )
    state = (
        None
        if point is None
        else PointState(
            supplier_gln=point["supplier_gln"],
            customer_key=point["customer_key"],
            blocked=point["blocked"],
            open_process=await process_store.has_open(conn, request.gsrn),
            last_completed=await process_store.last_completed(conn, request.gsrn),
        )
    )
    reasons: list[Reason] = decide(
        Request(
            request.process_type,
            request.sender_gln,
            request.energy_supplier_gln,
            request.effective_start,
            key,
        ),
        state,
        frozenset({settings.supplier_gln, OTHER_SUPPLIER_GLN}),
        now,
        limits(settings),
    )
    reference = str(uuid.uuid4())
    await process_store.add(
        conn,
        reference=reference,
        process_type=request.process_type,
        gsrn=request.gsrn,
        request_message_id=request.message_id,
        request_transaction_id=request.transaction_id,
        supplier_gln=request.energy_supplier_gln,
        balance_responsible_gln=request.balance_responsible_gln,
        customer_key=key,
        effective_start=request.effective_start,
        state="rejected" if reasons else "open",
        reasons=[code for code, _ in reasons],
    )
    answer = ChangeOfSupplierAnswer(
        message_id=str(uuid.uuid4()),
        receiver_gln=request.sender_gln,
        created=now,
        process_type=request.process_type,
        accepted=not reasons,
        transactions=(
            AnswerTransaction(
                transaction_id=str(uuid.uuid4()),
                original_transaction_id=request.transaction_id,
                gsrn=request.gsrn,
                process_reference=None if reasons else reference,
                reasons=tuple((code, text) for code, text in reasons),
            ),
        ),
    )
    document_type = "RejectRequestChangeOfSupplier" if reasons else "ConfirmRequestChangeOfSupplier"
    await store.enqueue_document(conn, "MasterData", document_type, answer)
    return answer


async def answer_cancel(
    conn: asyncpg.Connection, request: CancelRequest, now: datetime
) -> CancelAnswer:
    """RSM-002: cancel the sender's open process named by the request, and queue the answer.

    Rejections use the official reason codes: D06 no request with that transaction id, D05
    a different metering point, E16 someone else's request, D20 the process is no longer open.
    """
    process = await process_store.by_request_transaction_for_update(
        conn, request.original_transaction_id
    )
    reason: tuple[str, str] | None = None
    if process is None:
        reason = ("D06", "no request with that transaction id")
    elif process["gsrn"] != request.gsrn:
        reason = ("D05", "the metering point differs from the request's")
    elif process["supplier_gln"] != request.sender_gln:
        reason = ("E16", "only the requester can cancel its request")
    elif process["state"] != "open":
        reason = ("D20", f"the process is {process['state']}, not open")
    else:
        await process_store.cancel(conn, process["process_reference"], now)
    answer = CancelAnswer(
        message_id=str(uuid.uuid4()),
        receiver_gln=request.sender_gln,
        created=now,
        process_type=request.process_type,
        accepted=reason is None,
        transactions=(
            AnswerTransaction(
                transaction_id=str(uuid.uuid4()),
                original_transaction_id=request.transaction_id,
                gsrn=request.gsrn,
                process_reference=None if process is None else process["process_reference"],
                reasons=() if reason is None else (reason,),
            ),
        ),
    )
    document_type = f"{'Confirm' if reason is None else 'Reject'}RequestCancelChangeOfSupplier"
    await store.enqueue_document(conn, "MasterData", document_type, answer)
    return answer


async def complete_due(
    conn: asyncpg.Connection, until: datetime, settings: SimulatorSettings
) -> int:
    """Complete the open processes effective at or before *until* (the caller holds the
    generation lock); return how many."""
    due = await process_store.open_due(conn, until)
    ours = settings.supplier_gln
    for process in due:
        point = await market.metering_point(conn, process["gsrn"])
        assert point is not None
        previous, new = point["supplier_gln"], process["supplier_gln"]
        ending = process["process_type"] in ENDING_PROCESSES
        if ending:  # the supplier of last resort takes over; the one who ended knows already
            new = OTHER_SUPPLIER_GLN
        await process_store.change_supplier(
            conn, process["gsrn"], new, process["effective_start"], process["customer_key"]
        )
        if new == ours:
            await _queue_master_data(conn, process, point, until, settings)
        if previous == ours and new != ours and not ending:
            notice = GenericNotification(
                message_id=str(uuid.uuid4()),
                receiver_gln=ours,
                created=until,
                process_type=process["process_type"],
                transaction_id=str(uuid.uuid4()),
                gsrn=process["gsrn"],
                validity_start=process["effective_start"],
                process_reference=process["process_reference"],
            )
            await store.enqueue_document(conn, "MasterData", "GenericNotification", notice)
        await process_store.complete(conn, process["process_reference"], until, previous)
    return len(due)


def completer(
    settings: SimulatorSettings,
) -> Callable[[asyncpg.Connection, datetime], Awaitable[None]]:
    """``complete_due`` as a hook for the daily generation (run before each day)."""

    async def complete(conn: asyncpg.Connection, until: datetime) -> None:
        await complete_due(conn, until, settings)

    return complete


async def _queue_master_data(
    conn: asyncpg.Connection,
    process: asyncpg.Record,
    point: asyncpg.Record,
    created: datetime,
    settings: SimulatorSettings,
) -> None:
    """RSM-022: the metering point's master data for its new supplier."""
    document = AccountingPointCharacteristics(
        message_id=str(uuid.uuid4()),
        receiver_gln=process["supplier_gln"],
        created=created,
        process_type=process["process_type"],
        transaction_id=str(uuid.uuid4()),
        process_reference=process["process_reference"],
        original_transaction_id=process["request_transaction_id"],
        validity_start=process["effective_start"],
        gsrn=point["gsrn"],
        grid_operator_gln=settings.grid_operator_gln,
        metering_point_type=point["metering_point_type"],
        settlement_method=point["settlement_method"],
        metering_method="D01",
        connection_state="E22",
        read_cycle=point["resolution"],
        net_settlement_group="0",
        grid_area=point["grid_area"],
        product="8716867000030",
        estimated_annual_volume_kwh=Decimal(point["annual_kwh"]),
        energy_supplier_gln=process["supplier_gln"],
        supply_start=process["effective_start"],
        address=Address(dar_id=str(point["dar_id"]), country="DK", actual_address=True),
    )
    await store.enqueue_document(conn, "MasterData", "AccountingPointCharacteristics", document)


async def start_switch(
    conn: asyncpg.Connection, gsrn: str, supplier_gln: str, effective_start: datetime
) -> str | None:
    """Open a change of supplier by another supplier (as DataHub would after confirming
    that supplier's request); None if the metering point is unknown or busy."""
    await market.lock_generation(conn)
    if await market.metering_point(conn, gsrn) is None or await process_store.has_open(conn, gsrn):
        return None
    reference = str(uuid.uuid4())
    await process_store.add(
        conn,
        reference=reference,
        process_type="E03",
        gsrn=gsrn,
        request_message_id=f"sim-{reference}",
        request_transaction_id=f"sim-{reference}",
        supplier_gln=supplier_gln,
        effective_start=effective_start,
        state="open",
    )
    return reference
