"""The posting journal for the ERP (``domain.journal``) over a range of days."""

from __future__ import annotations

from datetime import date

from wattline_invoicing.adapters import invoices
from wattline_invoicing.domain import journal
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.models import PostingOut


class InvalidRange(ValueError):
    """A journal range whose end is not after its start, or longer than a year."""


async def postings(inv: Invoicing, start: date, end: date) -> list[PostingOut]:
    """Every posting of documents issued and money booked on [start, end)."""
    if end <= start or (end - start).days > 366:
        raise InvalidRange(f"{start}..{end}: the end after the start, at most a year")
    accounts = inv.settings.journal_accounts.domain()
    async with inv.service.database.connection() as conn:
        documents = await invoices.journal_documents(conn, start, end)
        entries = await invoices.journal_entries(conn, start, end)
    result: list[journal.Posting] = []
    for doc in documents:
        result += journal.for_document(
            accounts,
            booked_on=doc.issue_date,
            number=doc.number,
            amount_due=doc.amount_due,
            aconto_paid=doc.aconto_paid,
            next_prepayment=doc.next_prepayment,
            vat=doc.vat,
            revenue=doc.revenue,
        )
    for entry in entries:
        result += journal.for_entry(
            accounts,
            booked_on=entry.booked_on,
            kind=entry.kind,
            reference=entry.reference,
            amount=entry.amount,
        )
    result.sort(key=lambda p: (p.booked_on, p.document))
    return [PostingOut.model_validate(p, from_attributes=True) for p in result]
