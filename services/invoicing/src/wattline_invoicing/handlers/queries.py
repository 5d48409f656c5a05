"""Reading invoices, billing accounts and the ERP feed (no state changes)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from wattline_invoicing.adapters import accounts, invoices
from wattline_invoicing.adapters.invoices import Issued
from wattline_invoicing.domain import fik
from wattline_invoicing.handlers import Invoicing, cursors
from wattline_invoicing.handlers.issuing import document_event
from wattline_invoicing.models import (
    BillingAccountOut,
    ErpDocument,
    ErpPage,
    InvoiceDetail,
    InvoiceLineOut,
    InvoicePage,
    InvoiceSummary,
    LedgerEntryOut,
)


class NotFound(Exception):
    """No such invoice or billing account."""


def encode_cursor(issued: Issued) -> str:
    return cursors.encode_position(issued.feed_seq)


def _summary(doc: Issued) -> InvoiceSummary:
    return InvoiceSummary(
        invoice_id=str(doc.invoice_id),
        number=doc.number,
        kind=doc.kind,
        status=doc.status,
        account_id=doc.account_id,
        cycle=doc.cycle,
        period_start=doc.period_start,
        period_end=doc.period_end,
        issue_date=doc.issue_date,
        due_date=doc.due_date,
        subtotal=doc.subtotal,
        vat=doc.vat,
        total=doc.total,
        aconto_paid=doc.aconto_paid,
        difference=doc.difference,
        next_prepayment=doc.next_prepayment,
        amount_due=doc.amount_due,
        fi_payment_id=doc.fi_payment_id,
        corrects_invoice_id=None
        if doc.corrects_invoice_id is None
        else str(doc.corrects_invoice_id),
    )


async def list_invoices(
    inv: Invoicing,
    *,
    account_id: str | None,
    customer_id: str | None,
    status: str | None,
    cycle: str | None,
    after: str | None,
    limit: int,
) -> InvoicePage:
    cursor = None if after is None else cursors.decode_position(after)
    async with inv.service.database.connection() as conn:  # back office: no feed guarantee
        docs = await invoices.page(
            conn,
            account_id=account_id,
            customer_id=customer_id,
            status=status,
            cycle=cycle,
            after=cursor,
            limit=limit,
        )
    return InvoicePage(
        items=[_summary(d) for d in docs],
        next=encode_cursor(docs[-1]) if len(docs) == limit else None,
    )


async def invoice_detail(inv: Invoicing, invoice_id: uuid.UUID) -> InvoiceDetail:
    async with inv.service.database.connection() as conn:
        doc = await invoices.get(conn, invoice_id)
        if doc is None:
            raise NotFound(str(invoice_id))
        account = await accounts.get(conn, doc.account_id)
        lines = await invoices.lines(conn, invoice_id)
        corrects = (
            None
            if doc.corrects_invoice_id is None
            else await invoices.number_of(conn, doc.corrects_invoice_id)
        )
    assert account is not None  # a foreign key
    return InvoiceDetail(
        **_summary(doc).model_dump(),
        account_number=account.account_number,
        fi_code_line=None
        if doc.fi_payment_id is None
        else fik.code_line(doc.fi_payment_id, inv.settings.fi_creditor_number),
        corrects_number=corrects,
        lines=[InvoiceLineOut.model_validate(line, from_attributes=True) for line in lines],
    )


async def billing_account(inv: Invoicing, account_id: str) -> BillingAccountOut:
    async with inv.service.database.connection() as conn:
        account = await accounts.get(conn, account_id)
        if account is None:
            raise NotFound(account_id)
        entries = await invoices.ledger(conn, account_id)
    return BillingAccountOut(
        account_id=account.account_id,
        account_number=account.account_number,
        contact_type=account.contact_type,
        cpr_cvr_masked=account.cpr_cvr_masked,
        balance=sum((e.amount for e in entries), Decimal("0.00")),
        ledger=[
            LedgerEntryOut(
                entry_id=e.entry_id,
                kind=e.kind,
                reference=e.reference,
                invoice_id=None if e.invoice_id is None else str(e.invoice_id),
                amount=e.amount,
                booked_on=e.booked_on,
            )
            for e in entries
        ],
    )


async def erp_feed(inv: Invoicing, since: str | None, limit: int) -> ErpPage:
    """Documents in issue order after *since*, each as its event carried it. Reading again
    from the same cursor gives the same documents (an integrator books idempotently by
    number); ``next`` is the cursor to keep."""
    cursor = None if since is None else cursors.decode_position(since)
    items = []
    async with inv.service.database.transaction() as tx:
        mark = await invoices.feed_mark(tx)
    async with inv.service.database.connection() as conn:
        docs = await invoices.page(
            conn, account_id=None, customer_id=None, status=None, cycle=None, after=cursor,
            limit=limit, upto=mark,
        )  # fmt: skip
        numbers = await invoices.accounts(conn, sorted({d.account_id for d in docs}))
        for doc in docs:
            lines = await invoices.lines(conn, doc.invoice_id)
            billed = await invoices.billed_items(conn, doc.invoice_id)
            corrects = (
                None
                if doc.corrects_invoice_id is None
                else await invoices.number_of(conn, doc.corrects_invoice_id)
            )
            event = document_event(doc, lines, billed, numbers[doc.account_id], corrects)
            items.append(ErpDocument(kind=doc.kind, issued_at=doc.issued_at, document=event))
    return ErpPage(items=items, next=encode_cursor(docs[-1]) if docs else since)
