"""Dunning, day by day (``domain.dunning``): overdue notices, reminders with their fee and
interest, the hand-off to debt collection, disputes that stop it all, the reference rate.

Each step of an invoice is one transaction under the payer's account lock (a payment booked
at the same moment either comes first and the invoice is no longer outstanding, or after),
with the step's row keyed so that it is taken once however many replicas run the job.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from wattline_contracts.invoicing import PaymentOverdueV1, ReminderSentV1
from wattline_platform.business_days import is_business_day

from wattline_invoicing.adapters import accounts, invoices
from wattline_invoicing.adapters import dunning as store
from wattline_invoicing.domain import dunning as rules
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.handlers.queries import NotFound
from wattline_invoicing.models import ClaimOut, DisputeOut


async def run_dunning(inv: Invoicing, today: date) -> int:
    """Take every step due on *today* (an invoice that becomes overdue gets its first
    reminder the same day); returns how many were taken."""
    policy = inv.settings.dunning_policy()
    async with inv.service.database.connection() as conn:
        candidates = await store.candidates(conn, today)
        rates = await store.rates(conn)
    taken = 0
    for candidate in candidates:
        if rules.next_step(_state(candidate), policy, today, is_business_day) is None:
            continue
        for _ in range(policy.reminders + 2):  # bounded: overdue, reminders, hand-off
            if not await _take_step(inv, candidate, today, policy, rates):
                break
            taken += 1
    return taken


async def _take_step(
    inv: Invoicing,
    candidate: store.Candidate,
    today: date,
    policy: rules.Policy,
    rates: list[rules.Rate],
) -> bool:
    """The invoice's next step if one is due, in one transaction; False when none is."""
    async with inv.service.database.transaction() as tx:
        await accounts.lock(tx, candidate.account_id)
        fresh = await store.candidate(tx, candidate.invoice_id, today)
        step = (
            None
            if fresh is None
            else rules.next_step(_state(fresh), policy, today, is_business_day)
        )
        if fresh is None or step is None:
            return False  # paid meanwhile, nothing due, or another replica took the step
        if step.kind == "overdue":
            await store.start(tx, fresh.invoice_id, fresh.account_id, today, fresh.due_date)
            await inv.service.emit(
                tx,
                PaymentOverdueV1(
                    invoice_id=str(fresh.invoice_id),
                    number=fresh.number,
                    account_id=fresh.account_id,
                    due_date=fresh.due_date,
                    outstanding=fresh.outstanding,
                    overdue_on=today,
                ),
                key=fresh.account_id,
            )
        elif step.kind == "reminder":
            assert step.reminder is not None
            since = fresh.interest_from or fresh.due_date
            owed = (
                rules.interest(fresh.outstanding, since, today, rates)
                if policy.interest
                else Decimal("0.00")
            )
            await store.record_reminder(
                tx, fresh.invoice_id, step.reminder, today, step.fee, owed, fresh.outstanding
            )
            for kind, amount in (("fee", step.fee), ("interest", owed)):
                if amount > 0:
                    await invoices.book(
                        tx,
                        account_id=fresh.account_id,
                        kind=kind,
                        reference=f"{kind}:{fresh.number}:{step.reminder}",
                        amount=amount,
                        booked_on=today,
                        invoice_id=fresh.invoice_id,
                    )
            await inv.service.emit(
                tx,
                ReminderSentV1(
                    invoice_id=str(fresh.invoice_id),
                    number=fresh.number,
                    account_id=fresh.account_id,
                    reminder=step.reminder,
                    sent_on=today,
                    outstanding=fresh.outstanding,
                    fee=step.fee,
                    interest=owed,
                ),
                key=fresh.account_id,
            )
        else:
            await store.hand_off(tx, fresh.invoice_id, today)
    return True


def _state(candidate: store.Candidate) -> rules.State:
    return rules.State(
        due_date=candidate.due_date,
        stage=candidate.stage,
        last_step_on=candidate.last_step_on,
        handed_off=candidate.handed_off,
        disputed=candidate.disputed,
        interest_from=candidate.interest_from or candidate.due_date,
    )


async def dispute(inv: Invoicing, invoice_id: uuid.UUID, reason: str | None) -> DisputeOut:
    """Register (*reason*) or resolve (None) a dispute of an invoice: a dunning stop."""
    async with inv.service.database.transaction() as tx:
        doc = await invoices.get(tx, invoice_id)
        if doc is None:
            raise NotFound(str(invoice_id))
        await accounts.lock(tx, doc.account_id)
        await store.set_dispute(tx, invoice_id, doc.account_id, doc.due_date, reason)
    return DisputeOut(invoice_id=str(invoice_id), disputed=reason is not None, reason=reason)


async def set_reference_rate(inv: Invoicing, valid_from: date, rate: Decimal) -> None:
    async with inv.service.database.transaction() as tx:
        await store.set_rate(tx, valid_from, rate)


async def collection_claims(inv: Invoicing, since: date | None) -> list[ClaimOut]:
    """The claims handed to debt collection (the export's rows)."""
    async with inv.service.database.connection() as conn:
        claims = await store.handed_off(conn, since)
    return [ClaimOut.model_validate(c, from_attributes=True) for c in claims]
