"""Issuing: a cycle's invoices, correcting documents, and a new aconto payer's prepayment.

Each document is issued in one transaction that locks the billing account, reads and locks
what it bills, draws the next number of its series from the locked counter row, stores the
document with its lines, marks what it bills, books it in the ledger and writes its event to
the outbox. So a crash anywhere leaves either all of it or none of it (the number too), two
issuers (replicas, or the job and an API call) never bill the same settlement twice, and
numbers stay gap-free per series and year.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg
from pydantic import TypeAdapter
from wattline_contracts.invoicing import (
    BilledItemV1,
    CreditNoteIssuedV1,
    InvoiceIssuedV1,
    InvoiceLineV1,
    PassThroughV1,
)
from wattline_platform.logging import get_logger

from wattline_invoicing.adapters import accounts, billables, deliveries, invoices
from wattline_invoicing.adapters import payments as payments_store
from wattline_invoicing.adapters.accounts import Account
from wattline_invoicing.adapters.invoices import Issued
from wattline_invoicing.domain import aconto, delivery, fik, invoice, numbering, terms
from wattline_invoicing.domain.cycles import Cycle, Frequency, cycle_of
from wattline_invoicing.domain.invoice import ZERO, Billable, Draft, InvoiceLine, NothingToBill
from wattline_invoicing.handlers import Invoicing

log = get_logger(__name__)

_LINES = TypeAdapter(list[InvoiceLineV1])


BATCH = 500  # accounts per transaction when a cycle closes


async def close_cycle(inv: Invoicing, cycle: Cycle, today: date) -> list[Issued]:
    """Issue the invoices of *cycle*: one per billing account billed at the cycle's
    frequency with settlements not yet billed up to the cycle's last month.

    Accounts in arrears are issued :data:`BATCH` to a transaction (their numbers reserved
    as one block of the counter, everything stored by COPY); aconto accounts, whose
    prepayments each need their own reads, one by one (:func:`issue_cycle_invoice`).
    """
    async with inv.service.database.connection() as conn:
        ids = await billables.accounts_with_unbilled(conn, cycle.frequency, cycle.months[-1])
    issued: list[Issued] = []
    aconto: list[str] = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        try:
            done, later = await _close_batch(inv, batch, cycle, today)
        except Exception as exc:
            # One account's trouble must not hold up the other 499: they go one by one.
            log.error("cycle_batch_failed", cycle=cycle.name, error=type(exc).__name__)
            done, later = [], list(batch)
        issued += done
        aconto += later
    for account_id in aconto:
        try:
            document = await issue_cycle_invoice(inv, account_id, cycle, today)
        except Exception as exc:
            log.error("cycle_invoice_failed", cycle=cycle.name, error=type(exc).__name__)
            continue
        if document is not None:
            issued.append(document)
    return issued


async def _close_batch(
    inv: Invoicing, ids: Sequence[str], cycle: Cycle, today: date
) -> tuple[list[Issued], list[str]]:
    """The arrears invoices of *ids* in one transaction; returns them and the aconto
    accounts left for :func:`issue_cycle_invoice`."""
    late = inv.settings.correction_policy == "next_invoice"
    aconto: list[str] = []
    async with inv.service.database.transaction() as tx:
        locked = await accounts.lock_many(tx, ids)
        invoiced = await invoices.invoiced_cycle_many(tx, list(locked), cycle.name)
        ongoing = await accounts.with_contract_from(tx, list(invoiced), cycle.end)
        todo = [a for a in sorted(locked) if a not in invoiced or a not in ongoing]
        found = await billables.unbilled_for_accounts(
            tx, todo, cycle.frequency, cycle.months[-1], late
        )
        drafts: list[tuple[Account, Draft, tuple[date, date]]] = []
        for account_id, (items, model) in sorted(found.items()):
            if model == "aconto":
                aconto.append(account_id)
                continue
            draft = invoice.invoice(items)
            start = min([cycle.start, *(b.period_start for b in items)])
            end = max([cycle.end, *(b.period_end for b in items)])
            drafts.append((locked[account_id], draft, (start, end)))
        if not drafts:
            return [], aconto
        series = numbering.series_for("invoice", inv.settings.credit_notes_own_series)
        first = await invoices.reserve_numbers(tx, series.name, today.year, len(drafts))
        docs = [
            _numbered(inv, account, draft, cycle.name, period, today, first + n)
            for n, (account, draft, period) in enumerate(drafts)
        ]
        return await _store(inv, tx, docs), aconto


async def issue_cycle_invoice(
    inv: Invoicing, account_id: str, cycle: Cycle, today: date
) -> Issued | None:
    """The account's invoice for *cycle*, or None when there is nothing (left) to bill.

    A settlement that arrives after the account's invoice for its cycle waits for the next
    cycle's invoice, unless the account has no contract after the cycle (it would wait
    forever): then it is billed at once, on a further invoice of the cycle.
    """
    policy_late = inv.settings.correction_policy == "next_invoice"
    async with inv.service.database.transaction() as tx:
        account = await accounts.lock(tx, account_id)
        if account is None:
            return None  # the payer's activation has not arrived yet: billed next time
        if await invoices.invoiced_cycle(
            tx, account_id, cycle.name
        ) and await accounts.has_contract_from(tx, account_id, cycle.end):
            return None
        items, model = await billables.unbilled_for_account(
            tx, account_id, cycle.frequency, cycle.months[-1], policy_late
        )
        if not items:
            return None
        paid = next_prepayment = ZERO
        following = cycle.next()
        if model == "aconto":
            paid = await invoices.prepaid(tx, account_id, cycle.name)
            ahead = await invoices.prepayment_for(tx, account_id, following.name)
            if ahead is None:  # none yet: estimated, for the points that continue
                next_prepayment = await _estimate(inv, tx, account_id, following, items)
            elif ahead.invoice_id is None:  # set ahead by back office: billed as set
                next_prepayment = ahead.amount
        draft = invoice.invoice(items, aconto_paid=paid, next_prepayment=next_prepayment)
        start = min([cycle.start, *(b.period_start for b in items)])
        end = max([cycle.end, *(b.period_end for b in items)])
        issued = await _issue(inv, tx, account, draft, cycle.name, (start, end), today)
        if model == "aconto":
            await invoices.settle_prepayment(tx, account_id, cycle.name, issued.invoice_id)
            if next_prepayment > 0:
                await invoices.bill_prepayment(
                    tx, account_id, following.name, next_prepayment, issued.invoice_id
                )
    return issued


async def issue_corrections(inv: Invoicing, today: date) -> list[Issued]:
    """Under the ``credit_note`` policy: for each invoice whose settlements were corrected
    since, one correcting document (a credit note, or a supplementary invoice when the
    correction adds up to more) naming that invoice."""
    if inv.settings.correction_policy != "credit_note":
        return []
    async with inv.service.database.connection() as conn:
        pending = await billables.corrections_of_invoiced(conn)
    issued = []
    for invoice_id, account_id in pending:
        async with inv.service.database.transaction() as tx:
            account = await accounts.lock(tx, account_id)
            items = await billables.unbilled_corrections_of(tx, invoice_id)
            if account is None or not items:
                continue  # another issuer took them
            draft = invoice.correcting_document(items, str(invoice_id))
            start = min(b.period_start for b in items)
            end = max(b.period_end for b in items)
            document = await _issue(inv, tx, account, draft, None, (start, end), today)
            if document.kind == "credit_note":
                await invoices.apply_credit(tx, invoice_id, -document.total)
                await payments_store.refresh_status(tx, [str(invoice_id)])
            await invoices.mark_credited_if_cancelled(tx, invoice_id)
            issued.append(document)
    return issued


async def issue_first_prepayments(inv: Invoicing, today: date) -> list[Issued]:
    """A new aconto payer (no document yet) is billed the prepayment of its running cycle:
    the amount back office set ahead, else the estimate for the days from its contract's
    start."""
    issued = []
    frequencies: tuple[Frequency, ...] = ("monthly", "quarterly")
    for frequency in frequencies:
        cycle = cycle_of(f"{today.year:04d}-{today.month:02d}", frequency)
        async with inv.service.database.connection() as conn:
            ids = await invoices.new_aconto_accounts(
                conn, frequency, cycle.name, cycle.start, cycle.end
            )
        for account_id in ids:
            document = await _first_prepayment(inv, account_id, cycle, today)
            if document is not None:
                issued.append(document)
    return issued


async def _first_prepayment(
    inv: Invoicing, account_id: str, cycle: Cycle, today: date
) -> Issued | None:
    async with inv.service.database.transaction() as tx:
        account = await accounts.lock(tx, account_id)
        if account is None:
            return None
        ahead = await invoices.prepayment_for(tx, account_id, cycle.name)
        if ahead is not None and ahead.invoice_id is not None:
            return None  # another issuer billed it
        amount = (
            ahead.amount if ahead is not None else await _estimate(inv, tx, account_id, cycle, ())
        )
        try:
            draft = invoice.prepayment(amount)
        except NothingToBill:
            return None
        document = await _issue(inv, tx, account, draft, None, (cycle.start, cycle.end), today)
        await invoices.bill_prepayment(tx, account_id, cycle.name, amount, document.invoice_id)
    return document


async def issue_final_settlements(inv: Invoicing, today: date) -> list[Issued]:
    """A payer whose every contract has ended, with its settlements in up to the end, gets
    its final settlement (slutopgørelse) now rather than at its cycle's end: the part cycle,
    less what it prepaid, with no next prepayment (money back when it paid too much)."""
    async with inv.service.database.connection() as conn:
        ready = await billables.ended_accounts(conn)
    issued = []
    for account_id, frequency, last_period in ready:
        cycle = cycle_of(last_period, frequency)
        document = await issue_cycle_invoice(inv, account_id, cycle, today)
        if document is not None:
            issued.append(document)
    return issued


async def _estimate(
    inv: Invoicing,
    tx: asyncpg.Connection,
    account_id: str,
    cycle: Cycle,
    settled: Sequence[Billable],
) -> Decimal:
    """The prepayment for *cycle* of the account's aconto points (domain.aconto): the same
    cycle a year earlier, at the prices just settled (*settled*) or the product's default;
    a point whose contract covers only part of the cycle is prorated by days."""
    total = ZERO
    days_in_cycle = (cycle.end - cycle.start).days
    year_ago = [f"{int(m[:4]) - 1:04d}{m[4:]}" for m in cycle.months]
    for point in await invoices.aconto_points(tx, account_id, cycle.start, cycle.end):
        default = inv.settings.aconto_default(point.product_id)
        kwh = await billables.consumption_in(tx, [point.gsrn], year_ago)
        if not kwh:
            kwh = default.annual_kwh * len(cycle.months) / 12
        own = [b for b in settled if b.gsrn == point.gsrn]
        months = len({b.billing_period for b in own if b.kind == "settlement"})
        basis = aconto.basis_from(own, months) or default.basis
        rate = own[0].vat_rate if own else inv.settings.vat_rate
        covered = (min(point.end or cycle.end, cycle.end) - max(point.start, cycle.start)).days
        share = Decimal(max(covered, 0)) / Decimal(days_in_cycle)
        total += aconto.estimate(kwh, basis, rate, months=len(cycle.months), share=share)
    return total


@dataclass(frozen=True)
class NewDocument:
    """A document numbered and dated, about to be stored (:func:`_store`): the row the
    adapter stores and the account it is issued to."""

    row: invoices.Row
    account: Account


def _numbered(
    inv: Invoicing,
    account: Account,
    draft: Draft,
    cycle: str | None,
    period: tuple[date, date],
    today: date,
    seq: int,
) -> NewDocument:
    series = numbering.series_for(draft.kind, inv.settings.credit_notes_own_series)
    payable = draft.kind == "invoice" and draft.amount_due > 0
    row = invoices.Row(
        invoice_id=uuid.uuid4(),
        account_id=account.account_id,
        draft=draft,
        series=series.name,
        year=today.year,
        seq=seq,
        number=series.number(today.year, seq),
        cycle=cycle,
        period=period,
        issue_date=today,
        due_date=terms.due_date(today, inv.settings.payment_terms_days),
        fi_payment_id=fik.for_invoice(series.digit, today.year, seq) if payable else None,
    )
    return NewDocument(row, account)


async def _issue(
    inv: Invoicing,
    tx: asyncpg.Connection,
    account: Account,
    draft: Draft,
    cycle: str | None,
    period: tuple[date, date],
    today: date,
) -> Issued:
    """Number, store, mark, book and announce *draft* inside *tx*."""
    series = numbering.series_for(draft.kind, inv.settings.credit_notes_own_series)
    seq = await invoices.next_number(tx, series.name, today.year)
    [issued] = await _store(inv, tx, [_numbered(inv, account, draft, cycle, period, today, seq)])
    return issued


async def _store(
    inv: Invoicing, tx: asyncpg.Connection, docs: Sequence[NewDocument]
) -> list[Issued]:
    """Store *docs* (numbered in *tx*) with their lines, mark what they bill, book them in
    the ledger and write their events: the one place a document comes into being."""
    await invoices.lock_feed(tx, reader=False)
    stored = await invoices.insert_many(tx, [d.row for d in docs])
    await billables.mark_billed_many(
        tx, [(b.source_id, d.row.invoice_id) for d in docs for b in d.row.draft.billables]
    )
    await invoices.book_many(
        tx,
        [
            (d.row.account_id, d.row.draft.kind, d.row.number, d.row.draft.amount_due,
             d.row.issue_date, d.row.invoice_id)
            for d in docs
        ],
    )  # fmt: skip
    corrects = {
        d.row.draft.corrects_invoice_id for d in docs if d.row.draft.corrects_invoice_id is not None
    }
    numbers = await invoices.numbers_of(tx, [uuid.UUID(c) for c in corrects])
    events = []
    for doc, issued in zip(docs, stored, strict=True):
        billed = [(b.source_id, b.kind) for b in doc.row.draft.billables]
        corrects_number = (
            None
            if doc.row.draft.corrects_invoice_id is None
            else numbers.get(uuid.UUID(doc.row.draft.corrects_invoice_id))
        )
        event = document_event(
            issued, doc.row.draft.lines, billed, doc.account.account_number, corrects_number
        )
        events.append((event, doc.account.account_id))
    await inv.service.emit_many(tx, events)
    await deliveries.create(tx, [d.row.invoice_id for d in docs], delivery.CHANNELS)
    # One line per document naming what it bills: settlement's settlement_settled line names
    # the DataHub messages behind a settlement_id, so one id leads from DataHub to the invoice.
    for doc in docs:
        log.info(
            "invoice_issued",
            number=doc.row.number,
            kind=doc.row.draft.kind,
            account_number=doc.account.account_number,
            settlement_ids=[b.source_id for b in doc.row.draft.billables if b.kind == "settlement"],
            correction_ids=[b.source_id for b in doc.row.draft.billables if b.kind == "correction"],
        )
    if len(docs) > 1:
        log.info(
            "invoices_issued",
            documents=len(docs),
            first=docs[0].row.number,
            last=docs[-1].row.number,
        )
    return stored


def document_event(
    issued: Issued,
    lines: Sequence[InvoiceLine],
    billed: Sequence[tuple[str, str]],
    account_number: int,
    corrects_number: str | None,
) -> InvoiceIssuedV1 | CreditNoteIssuedV1:
    """The ERP feed's event of an issued document (also what ``GET /api/erp/invoices``
    serves again, rebuilt from what is stored)."""
    event_cls = CreditNoteIssuedV1 if issued.kind == "credit_note" else InvoiceIssuedV1
    sums = invoice.pass_through(lines)
    return event_cls(
        invoice_id=str(issued.invoice_id),
        number=issued.number,
        account_id=issued.account_id,
        account_number=account_number,
        cycle=issued.cycle,
        period_start=issued.period_start,
        period_end=issued.period_end,
        issue_date=issued.issue_date,
        due_date=issued.due_date,
        fi_payment_id=issued.fi_payment_id,
        # Read straight off the domain's lines by pydantic-core (a third of the time of
        # model_construct per line, and validated: 80,000 invoices of 24 lines a quarter).
        lines=_LINES.validate_python(lines, from_attributes=True),
        subtotal=issued.subtotal,
        vat=issued.vat,
        total=issued.total,
        aconto_paid=issued.aconto_paid,
        difference=issued.difference,
        next_prepayment=issued.next_prepayment,
        net_amount_due=issued.amount_due,
        pass_through=PassThroughV1(
            supplier=sums["supplier"],
            grid=sums["grid"],
            energinet=sums["energinet"],
            elafgift=sums["elafgift"],
        ),
        billed=[BilledItemV1(source_id=i, source_kind=k) for i, k in billed],
        corrects_invoice_id=None
        if issued.corrects_invoice_id is None
        else str(issued.corrects_invoice_id),
        corrects_number=corrects_number,
    )


async def oldest_unbilled(inv: Invoicing, frequency: str) -> str | None:
    """The oldest billing period (``YYYY-MM``) with a settlement not yet billed, among
    accounts billed at *frequency*."""
    async with inv.service.database.connection() as conn:
        return await billables.oldest_unbilled(conn, frequency)
