"""BRS processes: back office starts one (end of supply, move-out, an erroneous switch or
move undone), cancels one; every transition is stored with its timeline, its status events
and the signup's status (``apply``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import asyncpg
from wattline_contracts.portfolio import (
    DataHubRequestRaisedV1,
    ProcessStatusChangedV1,
    transaction_id_for,
)
from wattline_platform.identifiers import is_valid_gsrn

from wattline_portfolio.adapters import store
from wattline_portfolio.domain import history as entries
from wattline_portfolio.domain.dates import InvalidEffectiveDate
from wattline_portfolio.domain.process import (
    BACK_OFFICE_KINDS,
    BackOfficeKind,
    NotCancellable,
    Process,
    Step,
    external_status,
)
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.errors import (
    CannotCancel,
    ContractChanged,
    EffectiveDateNotAllowed,
    EffectiveDateRequired,
    InvalidGsrn,
    NoSwitchToUndo,
    NotAMoveIn,
    NotSupplied,
    OpenProcess,
    ProcessNotFound,
    SupplyStartsThen,
)
from wattline_portfolio.handlers.history import record

# The processes that start our supply of a metering point: a switch to us, a move-in.
STARTING = ("BRS-001", "BRS-009")


def open_process(gsrn: str, row: asyncpg.Record | None) -> OpenProcess:
    """The refusal of a new process on *gsrn*: *row* is the open one (None: unknown, or not
    the caller's to see)."""
    detail = f"metering point {gsrn} has an open process"
    extra: dict[str, str] = {}
    if row is not None:
        detail += f" ({row['kind']}, {row['status']})"
        extra["process_id"] = str(row["process_id"])
        if row["signup_id"]:
            extra["signup_id"] = row["signup_id"]
    return OpenProcess(detail, **extra)


async def refuse_open_process(tx: asyncpg.Connection, gsrn: str) -> None:
    row = await store.open_process(tx, gsrn)
    if row is not None:
        raise open_process(gsrn, row)


async def start_process(
    p: Portfolio, kind_name: BackOfficeKind, gsrn: str, effective_date: date | None
) -> asyncpg.Record:
    """Back office ends, moves out, or corrects our supply of a metering point."""
    kind = BACK_OFFICE_KINDS[kind_name]
    if not is_valid_gsrn(gsrn):
        raise InvalidGsrn(gsrn)
    today = await p.today()
    process_id = uuid.uuid4()
    try:
        async with p.service.database.transaction() as tx:
            await refuse_open_process(tx, gsrn)
            if kind == "BRS-003":
                period = await store.latest_period(tx, gsrn)
                if period is None or period["end_reason"] != "switched_away":
                    raise NoSwitchToUndo(
                        f"{gsrn}: our latest supply did not end by another supplier's switch"
                    )
                effective_date = period["end_date"]
            else:
                period = await store.current_period(tx, gsrn)
                if period is None:
                    raise NotSupplied(gsrn)
                if effective_date is None:
                    raise EffectiveDateRequired()
                try:
                    p.settings.date_rules.check(kind, effective_date, today)
                except InvalidEffectiveDate as exc:
                    raise EffectiveDateNotAllowed(str(exc)) from None
                if kind in ("BRS-002", "BRS-010") and effective_date <= period["start_date"]:
                    raise EffectiveDateNotAllowed(
                        f"the supply started {period['start_date'].isoformat()}"
                    )
                if kind == "BRS-011":
                    await _refuse_move_correction(tx, period, effective_date)
            assert effective_date is not None
            await store.insert_process(
                tx,
                process_id=process_id,
                kind=kind,
                gsrn=gsrn,
                effective_date=effective_date,
                transaction_id=transaction_id_for(str(process_id)),
                send_after=datetime.now(UTC) + timedelta(seconds=p.settings.send_delay_s),
                supply_period_id=str(period["supply_period_id"]),
                customer_id=str(period["customer_id"]),
            )
            step = Step("pending", f"{kind_name} requested by back office")
            await store.add_timeline(tx, process_id, [step], "api")
            await p.emit(
                tx, status_event(process_id, kind, gsrn, None, step, None, effective_date), gsrn
            )
            row = await store.process_by(tx, "process_id", process_id, for_update=False)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "process_one_open_per_gsrn":
            raise open_process(gsrn, None) from None
        raise
    assert row is not None
    return row


async def _refuse_move_correction(
    tx: asyncpg.Connection, period: asyncpg.Record, corrected: date
) -> None:
    """BRS-011 corrects the date of our own move-in, before anything else changed on it."""
    if not await store.is_move_in(tx, period["signup_id"]):
        raise NotAMoveIn()
    if len(await store.contracts_of_period(tx, period["supply_period_id"])) != 1:
        raise ContractChanged("correct the move-in date before changing the product")
    if corrected == period["start_date"]:
        raise SupplyStartsThen()


async def cancel_process(p: Portfolio, process_id: uuid.UUID) -> bool:
    """Cancel a back-office process; True while the cancellation waits for DataHub."""
    async with p.service.database.transaction() as tx:
        row = await store.process_by(tx, "process_id", process_id)
        if row is None:
            raise ProcessNotFound(str(process_id))
        await cancel(p, tx, row, "api")
        status = await store.process_status(tx, process_id)
    return bool(status == "cancellation_pending")


async def cancel(p: Portfolio, tx: asyncpg.Connection, row: asyncpg.Record, source: str) -> bool:
    """Cancel the process *row* in *tx*: at once in its hold, else through RSM-002 (True)."""
    try:
        process, steps, ask = store.to_domain(row).cancel()
    except NotCancellable as exc:
        status = external_status(row["status"]) if row["signup_id"] else row["status"]
        raise CannotCancel(str(exc), current_status=status) from None
    if ask:
        # A new request per attempt: DataHub may refuse one and a later one go through.
        request_id = str(uuid.uuid4())
        await store.set_cancel_request(
            tx, row["process_id"], request_id, transaction_id_for(request_id)
        )
        await p.emit(
            tx,
            DataHubRequestRaisedV1(
                request_id=request_id,
                kind="RSM-002",
                gsrn=row["gsrn"],
                cancels_request_id=row["request_id"],
                cancels_kind=row["kind"],
            ),
            row["gsrn"],
        )
    await apply(p, tx, row, process, steps, source)
    return ask


# -- the process state, its timeline and its events ---------------------------------------------


def status_event(
    process_id: uuid.UUID,
    kind: str,
    gsrn: str,
    signup_id: str | None,
    step: Step,
    previous: str | None,
    effective_date: date,
    reasons: Sequence[str] = (),
) -> ProcessStatusChangedV1:
    return ProcessStatusChangedV1(
        process_id=str(process_id),
        kind=kind,
        gsrn=gsrn,
        signup_id=signup_id,
        status=step.status,
        previous_status=previous,
        effective_date=effective_date,
        reasons=list(reasons),
    )


async def apply(
    p: Portfolio,
    tx: asyncpg.Connection,
    row: asyncpg.Record,
    process: Process,
    steps: Sequence[Step],
    source: str,
    *,
    reasons: Sequence[str] = (),
    datahub_reference: str | None = None,
) -> None:
    """Store a transition: state, timeline, one status event per step, the signup's status."""
    await store.save_process(
        tx, row, process, steps, source, reasons=reasons, datahub_reference=datahub_reference
    )
    previous = row["status"]
    for step in steps:
        await p.emit(
            tx,
            status_event(
                row["process_id"],
                row["kind"],
                row["gsrn"],
                row["signup_id"],
                step,
                previous,
                row["effective_date"],
                reasons,
            ),
            row["gsrn"],
        )
        previous = step.status
    if steps and row["signup_id"]:
        rejected = steps[-1].detail if process.status == "rejected" else None
        status = external_status(process.status)
        changed = await store.sync_signup(tx, row["signup_id"], status, rejected)
        if changed and status in ("rejected", "cancelled") and row["customer_id"] is not None:
            await record(
                tx,
                str(row["customer_id"]),
                entries.signup_ended_early(row["signup_id"], status, rejected),
            )
