"""Settlement's handlers: the events' (run inside the consumer's transaction, inbox already
recorded) and the API's writes (each its own transaction)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.invoicing import CreditNoteIssuedV1, InvoiceIssuedV1
from wattline_contracts.portfolio import MeteringPointRegisteredV1
from wattline_platform.db import Database
from wattline_platform.inputs import FIRST_DATE

from wattline_settlement.adapters import elvarme, metering_points, runs
from wattline_settlement.domain import invoiced


async def on_metering_point_registered(
    tx: asyncpg.Connection, event: MeteringPointRegisteredV1, envelope: Envelope
) -> None:
    """Keep settlement's master data in step with the portfolio; a change of what the
    settlement depends on (grid or price area, type, settlement method, resolution) is
    rechecked in every settled period (master data has no validity date here)."""
    before = await metering_points.get(tx, event.gsrn)
    await metering_points.apply_master_data(tx, event, envelope.event_id)
    now = (
        event.grid_area,
        event.price_area,
        event.metering_point_type,
        event.settlement_method,
        event.resolution,
    )
    if before is not None and now != (
        before["grid_area"],
        before["price_area"],
        before["metering_point_type"],
        before["settlement_method"],
        before["resolution"],
    ):
        await runs.queue_settled(tx, "master_data_changed", FIRST_DATE, gsrns=[event.gsrn])


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


async def register_elvarme(
    db: Database, gsrn: str, from_date: date, opening_kwh: Decimal, threshold_kwh: Decimal
) -> None:
    """Register (or replace) *gsrn*'s elvarme. It is master data: the metering point's
    settled periods are rechecked, as they may change."""
    async with db.transaction() as tx:
        await elvarme.register(tx, gsrn, from_date, opening_kwh, threshold_kwh)
        await runs.queue_recheck(tx, [gsrn], "master_data_changed")


async def set_reduced_tax(db: Database, valid_from: date, dkk_per_kwh: Decimal) -> None:
    """The reduced electricity tax rate (elvarme) from *valid_from*."""
    async with db.transaction() as tx:
        await elvarme.set_reduced_tax(tx, valid_from, dkk_per_kwh)
