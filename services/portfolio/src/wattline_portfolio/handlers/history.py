"""The customer history: portfolio's own actions are recorded in the action's transaction
(``record``); invoices and payments from invoicing's events, in the inbox's transaction (a
redelivery is skipped by the inbox, and by the entry's source event id besides).

Who: the API key's name behind the request (``acting_as``, set by the API for the request),
else ``system``. The correlation id is the request's or the event's."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from wattline_contracts.envelope import Envelope
from wattline_contracts.invoicing import (
    CreditNoteIssuedV1,
    InvoiceIssuedV1,
    PaymentOverdueV1,
    PaymentReceivedV1,
)
from wattline_platform.logging import correlation_id_var

from wattline_portfolio.adapters import history as history_store
from wattline_portfolio.domain import history
from wattline_portfolio.domain.history import SYSTEM, Entry
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.errors import CustomerNotFound

_actor: contextvars.ContextVar[str] = contextvars.ContextVar("portfolio_actor", default=SYSTEM)


@contextmanager
def acting_as(who: str) -> Iterator[None]:
    """Record *who* (an API key's name) as the one acting, for the block."""
    token = _actor.set(who)
    try:
        yield
    finally:
        _actor.reset(token)


async def record(tx: asyncpg.Connection, customer_id: str, entry: Entry) -> None:
    """Append *entry* to *customer_id*'s history in the caller's transaction."""
    await history_store.append(
        tx,
        customer_id,
        entry,
        performed_by=_actor.get(),
        correlation_id=correlation_id_var.get(),
    )


async def _from_event(
    tx: asyncpg.Connection, account_id: str | None, entry: Entry, envelope: Envelope
) -> None:
    if account_id is None:  # on the suspense list: nobody's yet
        return
    for customer_id in await history_store.customers_of_account(tx, account_id):
        await history_store.append(
            tx,
            customer_id,
            entry,
            performed_by=SYSTEM,
            correlation_id=envelope.correlation_id,
            occurred_at=envelope.occurred_at,
            source_event_id=envelope.event_id,
        )


async def on_invoice_issued(
    p: Portfolio, tx: asyncpg.Connection, event: InvoiceIssuedV1, envelope: Envelope
) -> None:
    del p
    entry = history.invoice_issued(event.number, event.total, event.due_date, False)
    await _from_event(tx, event.account_id, entry, envelope)


async def on_credit_note_issued(
    p: Portfolio, tx: asyncpg.Connection, event: CreditNoteIssuedV1, envelope: Envelope
) -> None:
    del p
    entry = history.invoice_issued(event.number, event.total, event.due_date, True)
    await _from_event(tx, event.account_id, entry, envelope)


async def on_payment_received(
    p: Portfolio, tx: asyncpg.Connection, event: PaymentReceivedV1, envelope: Envelope
) -> None:
    del p
    numbers = [a.number for a in event.allocations]
    entry = history.payment_received(event.amount, event.received_on, numbers, event.source)
    await _from_event(tx, event.account_id, entry, envelope)


async def on_payment_overdue(
    p: Portfolio, tx: asyncpg.Connection, event: PaymentOverdueV1, envelope: Envelope
) -> None:
    del p
    entry = history.payment_overdue(event.number, event.outstanding, event.due_date)
    await _from_event(tx, event.account_id, entry, envelope)


async def history_page(
    p: Portfolio, customer_id: uuid.UUID, after: int | None, limit: int
) -> tuple[list[asyncpg.Record], int | None]:
    """A page of the customer's history, oldest first, and the cursor of the next (None: the
    last page). CustomerNotFound for no such customer."""
    async with p.service.database.connection() as conn:
        if not await history_store.customer_exists(conn, customer_id):
            raise CustomerNotFound(str(customer_id))
        rows = await history_store.page(conn, customer_id, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["entry_id"] if more else None)
