"""Portfolio subscriptions: what became of our DataHub requests, DataHub's news, and
invoicing's invoices and payments for the customer history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from wattline_contracts.datahub import (
    MasterDataReceivedV1,
    NotificationReceivedV1,
    ProcessAnsweredV1,
    RequestFailedV1,
    RequestSentV1,
)
from wattline_contracts.envelope import Envelope
from wattline_contracts.invoicing import (
    CreditNoteIssuedV1,
    InvoiceIssuedV1,
    PaymentOverdueV1,
    PaymentReceivedV1,
)

from wattline_portfolio.handlers import Portfolio, datahub_events, history


def register(p: Portfolio) -> None:
    """Route consumed event types to handlers."""
    consumer = p.service.consumer
    assert consumer is not None

    def bound(
        fn: Callable[[Portfolio, asyncpg.Connection, Any, Envelope], Awaitable[None]],
    ) -> Callable[[asyncpg.Connection, Any, Envelope], Awaitable[None]]:
        async def handle(tx: asyncpg.Connection, event: Any, envelope: Envelope) -> None:
            await fn(p, tx, event, envelope)

        return handle

    consumer.on(RequestSentV1)(bound(datahub_events.on_request_sent))
    consumer.on(RequestFailedV1)(bound(datahub_events.on_request_failed))
    consumer.on(ProcessAnsweredV1)(bound(datahub_events.on_process_answered))
    consumer.on(MasterDataReceivedV1)(bound(datahub_events.on_master_data))
    consumer.on(NotificationReceivedV1)(bound(datahub_events.on_notification))
    # The customer history's invoices and payments.
    consumer.on(InvoiceIssuedV1)(bound(history.on_invoice_issued))
    consumer.on(CreditNoteIssuedV1)(bound(history.on_credit_note_issued))
    consumer.on(PaymentReceivedV1)(bound(history.on_payment_received))
    consumer.on(PaymentOverdueV1)(bound(history.on_payment_overdue))
