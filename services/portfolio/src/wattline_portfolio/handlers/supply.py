"""Supply periods and their contracts: our supply of a metering point starts (a signup DataHub
confirmed, a row of an import), ends, is rolled back, reopened, or has its start corrected;
each with the events settlement and invoicing build on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import asyncpg
from wattline_contracts.envelope import Event
from wattline_contracts.portfolio import (
    ContractChangedV1,
    CustomerActivatedV1,
    CustomerOffboardedV1,
    OffboardReason,
    Party,
    SupplyPeriodChangedV1,
    SupplyReason,
)
from wattline_platform.logging import get_logger

from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.adapters import store
from wattline_portfolio.domain import history as entries
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.history import record
from wattline_portfolio.handlers.parties import save_party
from wattline_portfolio.models import SignupIn

log = get_logger(__name__)


def period_event(
    row: asyncpg.Record, reason: SupplyReason, process_id: object | None
) -> SupplyPeriodChangedV1:
    return SupplyPeriodChangedV1(
        supply_period_id=str(row["supply_period_id"]),
        gsrn=row["gsrn"],
        customer_id=str(row["customer_id"]),
        start_date=row["start_date"],
        end_date=row["end_date"],
        reason=reason,
        process_id=None if process_id is None else str(process_id),
    )


def contract_event(row: asyncpg.Record) -> ContractChangedV1:
    return ContractChangedV1(
        contract_id=str(row["contract_id"]),
        gsrn=row["gsrn"],
        customer_id=str(row["customer_id"]),
        payer_id=None if row["payer_id"] is None else str(row["payer_id"]),
        product_id=str(row["product_id"]),
        product_version=row["product_version"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        billing_frequency=row["billing_frequency"],
        payment_model=row["payment_model"],
    )


def _offboarded(period: asyncpg.Record, end: date, reason: OffboardReason) -> CustomerOffboardedV1:
    return CustomerOffboardedV1(
        customer_id=str(period["customer_id"]),
        gsrn=period["gsrn"],
        supply_period_id=str(period["supply_period_id"]),
        end_date=end,
        reason=reason,
    )


def _party_event(row: asyncpg.Record) -> Party:
    return Party(
        party_id=str(row["party_id"]),
        contact_type=row["contact_type"],
        cpr_cvr_masked=row["cpr_cvr_masked"],
        sealed=row["sealed"],
    )


async def activate(
    p: Portfolio, tx: asyncpg.Connection, process: asyncpg.Record, start: date
) -> None:
    """A signup's supply starts: supply period, contract and the customer activated."""
    signup = await store.signup(tx, process["signup_id"], for_update=True)
    assert signup is not None
    # The customer (and payer) are now confirmed: their details become the signup's.
    request = SignupIn.model_validate_json(p.vault.open(signup["request_sealed"]))
    await save_party(p, tx, "customer", request.customer(), overwrite=True)
    payer_person = request.payer()
    if payer_person is not None:
        await save_party(p, tx, "payer", payer_person, overwrite=True)
    await start_supply(
        p,
        tx,
        NewSupply(
            gsrn=signup["gsrn"],
            customer_id=str(signup["customer_id"]),
            payer_id=None if signup["payer_id"] is None else str(signup["payer_id"]),
            product_id=str(signup["product_id"]),
            product_version=signup["product_version"],
            start=start,
            billing_frequency=p.settings.billing_frequency,
            payment_model=p.settings.payment_model,
            signup_id=signup["signup_id"],
        ),
        process,
    )
    log.info("customer_activated", signup_id=signup["signup_id"], gsrn=signup["gsrn"])


@dataclass(frozen=True)
class NewSupply:
    """A supply of ours that starts: a signup DataHub confirmed, or a row of a portfolio
    import (``signup_id`` None; ``reference`` names the row in ``customer.activated``)."""

    gsrn: str
    customer_id: str
    payer_id: str | None
    product_id: str
    product_version: int
    start: date
    billing_frequency: Literal["monthly", "quarterly"]
    payment_model: Literal["aconto", "arrears"]
    signup_id: str | None = None
    reference: str | None = None


async def start_supply(
    p: Portfolio, tx: asyncpg.Connection, supply: NewSupply, process: asyncpg.Record | None
) -> tuple[str, str]:
    """Our supply of a metering point starts: its supply period, its contract and the customer
    activated, with the events settlement and invoicing build on. A customer of ours supplied
    there before moved out. Returns (supply period id, contract id)."""
    gsrn, customer_id = supply.gsrn, supply.customer_id
    process_id = None if process is None else process["process_id"]
    current = await store.current_period(tx, gsrn)
    if current is not None:  # a new customer of ours moved in: the previous one moved out
        await end_period(p, tx, current, supply.start, "move_out", process)
    period_id = await store.insert_supply_period(
        tx, gsrn=gsrn, customer_id=customer_id, start_date=supply.start, signup_id=supply.signup_id
    )
    period = await store.supply_period(tx, period_id)
    contract = await store.insert_contract(
        tx,
        supply_period_id=period_id,
        gsrn=gsrn,
        customer_id=customer_id,
        payer_id=supply.payer_id,
        product_id=supply.product_id,
        product_version=supply.product_version,
        start_date=supply.start,
        billing_frequency=supply.billing_frequency,
        payment_model=supply.payment_model,
    )
    customer = await store.party(tx, customer_id)
    payer = await store.party(tx, supply.payer_id) if supply.payer_id else None
    assert customer is not None and period is not None
    reference = supply.signup_id or supply.reference
    assert reference is not None
    name = await product_store.name_of(tx, supply.product_id)
    await record(
        tx,
        customer_id,
        entries.supply_activated(reference, gsrn, supply.start, name, supply.product_version),
    )
    await p.service.emit_many(
        tx,
        [
            (period_event(period, "started", process_id), gsrn),
            (contract_event(contract), gsrn),
            (
                CustomerActivatedV1(
                    customer=_party_event(customer),
                    payer=_party_event(payer) if payer else None,
                    signup_id=reference,
                    gsrn=gsrn,
                    effective_date=supply.start,
                    contract_id=str(contract["contract_id"]),
                    supply_period_id=period_id,
                ),
                gsrn,
            ),
        ],
    )
    return period_id, str(contract["contract_id"])


async def end_period(
    p: Portfolio,
    tx: asyncpg.Connection,
    period: asyncpg.Record,
    end: date,
    reason: OffboardReason,
    process: asyncpg.Record | None,
) -> None:
    """Our supply under *period* ends on *end* (exclusive) for *reason*: the period, its
    contracts running past *end* and the signup end; the customer is offboarded."""
    end = max(end, period["start_date"])
    row = await store.update_period(
        tx, period["supply_period_id"], status="ended", end_date=end, end_reason=reason
    )
    events: list[tuple[Event, str]] = [
        (period_event(row, "ended", process["process_id"] if process else None), row["gsrn"])
    ]
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        if contract["end_date"] is None or contract["end_date"] > end:
            changed = await store.update_contract(
                tx, contract["contract_id"], end_date=max(end, contract["start_date"])
            )
            events.append((contract_event(changed), row["gsrn"]))
    events.append((_offboarded(row, end, reason), row["gsrn"]))
    if row["signup_id"] is not None:
        await store.end_signup(tx, row["signup_id"], reason, end)
    await record(tx, str(row["customer_id"]), entries.supply_ended(row["gsrn"], end, reason))
    await p.service.emit_many(tx, events)
    log.info("supply_ended", gsrn=row["gsrn"], end_date=end.isoformat(), reason=reason)


async def roll_back(p: Portfolio, tx: asyncpg.Connection, period: asyncpg.Record) -> None:
    """The previous supplier undid the switch to us (BRS-003): the period was never ours."""
    start = period["start_date"]
    row = await store.update_period(
        tx,
        period["supply_period_id"],
        status="rolled_back",
        end_date=start,
        end_reason="erroneous_switch",
    )
    events: list[tuple[Event, str]] = [(period_event(row, "rolled_back", None), row["gsrn"])]
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        changed = await store.update_contract(tx, contract["contract_id"], end_date=start)
        events.append((contract_event(changed), row["gsrn"]))
    events.append((_offboarded(row, start, "erroneous_switch"), row["gsrn"]))
    if row["signup_id"] is not None:
        await store.end_signup(tx, row["signup_id"], "erroneous_switch", start)
    await record(
        tx, str(row["customer_id"]), entries.supply_ended(row["gsrn"], start, "erroneous_switch")
    )
    await p.service.emit_many(tx, events)


async def reopen(p: Portfolio, tx: asyncpg.Connection, process: asyncpg.Record) -> None:
    """Our BRS-003 went through: the switch away from us is undone, our period continues."""
    period = await store.supply_period(tx, process["supply_period_id"], for_update=True)
    assert period is not None
    old_end = period["end_date"]
    row = await store.update_period(
        tx, period["supply_period_id"], status="active", end_date=None, end_reason=None
    )
    events: list[tuple[Event, str]] = [
        (period_event(row, "reopened", process["process_id"]), row["gsrn"])
    ]
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        if contract["end_date"] == old_end:
            changed = await store.update_contract(tx, contract["contract_id"], end_date=None)
            events.append((contract_event(changed), row["gsrn"]))
    if row["signup_id"] is not None:
        await store.reopen_signup(tx, row["signup_id"])
    await p.service.emit_many(tx, events)


async def correct_start(
    p: Portfolio, tx: asyncpg.Connection, process: asyncpg.Record, start: date
) -> None:
    """Our BRS-011 went through: the move-in date was wrong, the supply starts on *start*."""
    period = await store.supply_period(tx, process["supply_period_id"], for_update=True)
    assert period is not None
    old_start = period["start_date"]
    events: list[tuple[Event, str]] = []
    # A customer of ours who moved out when this one moved in moved out on the corrected date.
    before = await store.period_ended_on(
        tx, period["gsrn"], old_start, other_than=period["supply_period_id"]
    )
    if before is not None:
        new_end = max(start, before["start_date"])
        moved = await store.update_period(tx, before["supply_period_id"], end_date=new_end)
        events.append((period_event(moved, "ended", process["process_id"]), moved["gsrn"]))
        if moved["signup_id"] is not None and moved["end_reason"] is not None:
            await store.end_signup(tx, moved["signup_id"], moved["end_reason"], new_end)
        for contract in await store.contracts_of_period(tx, before["supply_period_id"]):
            if contract["end_date"] == old_start:
                changed = await store.update_contract(
                    tx, contract["contract_id"], end_date=max(new_end, contract["start_date"])
                )
                events.append((contract_event(changed), moved["gsrn"]))
    row = await store.update_period(tx, period["supply_period_id"], start_date=start)
    events.append((period_event(row, "start_corrected", process["process_id"]), row["gsrn"]))
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        if contract["start_date"] == old_start:
            changed = await store.update_contract(tx, contract["contract_id"], start_date=start)
            events.append((contract_event(changed), row["gsrn"]))
    await p.service.emit_many(tx, events)
