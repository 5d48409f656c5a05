"""What invoicing billed leaves the uninvoiced view: its events, and the mark-invoiced API."""

from __future__ import annotations

import uuid

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.invoicing import CreditNoteIssuedV1, InvoiceIssuedV1
from wattline_platform.db import Database

from wattline_settlement.adapters import runs
from wattline_settlement.domain import invoiced


async def on_document_issued(
    tx: asyncpg.Connection, event: InvoiceIssuedV1 | CreditNoteIssuedV1, envelope: Envelope
) -> None:
    """Invoicing billed these settlements and corrections: they leave the uninvoiced view."""
    del envelope
    await runs.mark_invoiced(
        tx,
        [b.source_id for b in event.billed if b.source_kind == "settlement"],
        [b.source_id for b in event.billed if b.source_kind == "correction"],
        event.invoice_id,
    )


async def mark_invoiced(db: Database, item_id: uuid.UUID, invoice_id: str) -> str:
    """Mark the settlement or correction *item_id* as on *invoice_id* (the mark-invoiced
    API); returns its kind (``settlement``, ``settlement_correction``). Raises
    :class:`~invoiced.NoSuchItem` or :class:`~invoiced.AlreadyInvoiced`."""
    async with db.transaction() as tx:
        found = await runs.invoice_of(tx, item_id)
        if found is None:
            raise invoiced.NoSuchItem(str(item_id))
        kind, current = found
        invoiced.check_mark(current, invoice_id)
        await runs.set_invoice(tx, kind, item_id, invoice_id)
    return kind
