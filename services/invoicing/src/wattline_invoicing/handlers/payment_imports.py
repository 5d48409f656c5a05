"""Payment files in: a bank statement (CSV), Betalingsservice deliveries (0602 results, 0603
mandate changes). Parsed whole before anything is booked, then booked by
:mod:`handlers.payments` (each payment once, however often the file comes)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from wattline_invoicing.adapters import bank_csv, camt
from wattline_invoicing.adapters import payments as store
from wattline_invoicing.handlers import Invoicing, cursors
from wattline_invoicing.handlers.payments import Booked, Receipt, book_receipts
from wattline_invoicing.handlers.queries import NotFound
from wattline_invoicing.models import AllocationOut, PaymentImportOut, PaymentOut, SuspensePage


def report(booked: Booked, skipped: int = 0) -> PaymentImportOut:
    return PaymentImportOut(
        received=booked.received,
        matched=booked.matched,
        unmatched=booked.unmatched,
        already_booked=booked.already_booked,
        failed=booked.failed,
        reversed=booked.reversed,
        skipped=skipped,
        amount=booked.amount,
    )


async def import_bank_statement(
    inv: Invoicing, body: bytes, *, xml: bool = False
) -> PaymentImportOut:
    """Book the money in of a statement, CSV (``adapters.bank_csv``) or camt XML
    (``adapters.camt``); StatementRefused if bad."""
    entries = camt.read(body) if xml else bank_csv.read(body)
    receipts = [
        Receipt(
            external_ref=f"bank:{e.entry_id}",
            source="bank",
            received_on=e.booking_date,
            amount=e.amount,
            reference=e.reference,
        )
        for e in entries
        if e.amount > 0
    ]
    booked = await book_receipts(inv, receipts)
    return report(booked, skipped=len(entries) - len(receipts))


async def payment(inv: Invoicing, payment_id: uuid.UUID) -> PaymentOut:
    async with inv.service.database.connection() as conn:
        stored = await store.get(conn, payment_id)
        if stored is None:
            raise NotFound(str(payment_id))
        allocations = await store.allocations_of(conn, payment_id)
    return _out(stored, allocations)


def _out(stored: store.StoredPayment, allocations: list[tuple[str, str, Decimal]]) -> PaymentOut:
    paid = sum((a for _, _, a in allocations), Decimal("0.00"))
    return PaymentOut(
        payment_id=str(stored.payment_id),
        source=stored.source,
        received_on=stored.received_on,
        amount=stored.amount,
        reference=stored.reference,
        account_id=stored.account_id,
        rule=stored.rule,
        status=stored.status,
        allocations=[AllocationOut(invoice_id=i, number=n, amount=a) for i, n, a in allocations],
        unallocated=stored.amount - paid if stored.status != "reversed" else Decimal("0.00"),
    )


async def suspense(inv: Invoicing, after: str | None, limit: int) -> SuspensePage:
    """Payments no rule matched, oldest first: back office allocates them."""
    async with inv.service.database.connection() as conn:
        items = await store.suspense(conn, None if after is None else cursors.decode(after), limit)
    return SuspensePage(
        items=[_out(p, []) for p in items],
        next=cursors.encode(items[-1].created_at, items[-1].payment_id)
        if len(items) == limit
        else None,
    )
