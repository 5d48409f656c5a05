"""The customer portal's reads: a customer's own invoices, credit notes, their PDFs, payments
and balance (no state changes, except keeping a PDF rendered on first request).

The customer is the portal token's and nothing else: their documents are those of their own
billing account (see ``adapters.portal``). A number that is not theirs is :class:`NotFound`,
as one that does not exist, so a customer cannot tell another customer's numbers from gaps.
"""

from __future__ import annotations

from decimal import Decimal

from wattline_invoicing.adapters import invoices
from wattline_invoicing.adapters import portal as store
from wattline_invoicing.adapters.invoices import Issued
from wattline_invoicing.domain import fik
from wattline_invoicing.handlers import Invoicing, bills, cursors
from wattline_invoicing.handlers.queries import NotFound
from wattline_invoicing.models import (
    PortalDocument,
    PortalDocumentDetail,
    PortalDocumentPage,
    PortalLine,
    PortalPaidInvoice,
    PortalPayment,
    PortalPayments,
)

ZERO = Decimal("0.00")


def _document(
    doc: Issued, outstanding: dict[object, Decimal], numbers: dict[object, str]
) -> PortalDocument:
    return PortalDocument(
        number=doc.number,
        kind=doc.kind,
        status=doc.status,
        period_start=doc.period_start,
        period_end=doc.period_end,
        issue_date=doc.issue_date,
        due_date=doc.due_date,
        subtotal=doc.subtotal,
        vat=doc.vat,
        total=doc.total,
        aconto_paid=doc.aconto_paid,
        next_prepayment=doc.next_prepayment,
        amount_due=doc.amount_due,
        outstanding=outstanding.get(doc.invoice_id, ZERO),
        corrects_number=None
        if doc.corrects_invoice_id is None
        else numbers.get(doc.corrects_invoice_id),
    )


async def documents(
    inv: Invoicing, customer_id: str, after: str | None, limit: int
) -> PortalDocumentPage:
    """The customer's invoices and credit notes in issue order (keyset: *after*)."""
    cursor = None if after is None else cursors.decode_position(after)
    async with inv.service.database.connection() as conn:
        docs = await invoices.page(
            conn, account_id=customer_id, customer_id=None, status=None, cycle=None,
            after=cursor, limit=limit,
        )  # fmt: skip
        left = await store.outstanding(conn, customer_id)
        numbers = await store.numbers(
            conn, [d.corrects_invoice_id for d in docs if d.corrects_invoice_id is not None]
        )
    return PortalDocumentPage(
        items=[_document(d, left, numbers) for d in docs],
        next=cursors.encode_position(docs[-1].feed_seq) if len(docs) == limit else None,
    )


async def _own(inv: Invoicing, customer_id: str, number: str) -> Issued:
    async with inv.service.database.connection() as conn:
        doc = await store.document(conn, customer_id, number)
    if doc is None:
        raise NotFound(number)
    return doc


async def document(inv: Invoicing, customer_id: str, number: str) -> PortalDocumentDetail:
    """The customer's document numbered *number*, with its lines."""
    doc = await _own(inv, customer_id, number)
    async with inv.service.database.connection() as conn:
        lines = await invoices.lines(conn, doc.invoice_id)
        left = await store.outstanding(conn, customer_id)
        numbers = await store.numbers(
            conn, [] if doc.corrects_invoice_id is None else [doc.corrects_invoice_id]
        )
    return PortalDocumentDetail(
        **_document(doc, left, numbers).model_dump(),
        fi_code_line=None
        if doc.fi_payment_id is None
        else fik.code_line(doc.fi_payment_id, inv.settings.fi_creditor_number),
        lines=[
            PortalLine(
                gsrn=ln.gsrn,
                period_start=ln.period_start,
                period_end=ln.period_end,
                code=ln.code,
                text=bills.LABELS.get(ln.code, ln.code),
                correction=ln.source_kind == "correction",
                quantity_kwh=ln.quantity_kwh,
                days=ln.days,
                unit_price=ln.unit_price,
                amount=ln.amount,
                vat=ln.vat,
            )
            for ln in lines
        ],
    )


async def pdf(inv: Invoicing, customer_id: str, number: str) -> bytes:
    """The bill of the customer's document *number*: the PDF back office sees."""
    return await bills.pdf(inv, (await _own(inv, customer_id, number)).invoice_id)


async def payments(inv: Invoicing, customer_id: str) -> PortalPayments:
    """The customer's payments (newest first) and their balance; NotFound without an account."""
    async with inv.service.database.connection() as conn:
        if not await store.has_account(conn, customer_id):
            raise NotFound(customer_id)
        found = await store.payments(conn, customer_id)
        balance = await store.balance(conn, customer_id)
    return PortalPayments(
        balance=balance,
        payments=[
            PortalPayment(
                received_on=p.received_on,
                amount=p.amount,
                method=p.method,
                status=p.status,
                pays=[PortalPaidInvoice(number=x.number, amount=x.amount) for x in p.pays],
            )
            for p in found
        ],
    )
