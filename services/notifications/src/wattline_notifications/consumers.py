"""Notifications' subscriptions (thin: the platform decodes and deduplicates)."""

from __future__ import annotations

from wattline_contracts.invoicing import InvoiceIssuedV1, PaymentOverdueV1
from wattline_contracts.portfolio import (
    CustomerActivatedV1,
    CustomerOffboardedV1,
    ProcessStatusChangedV1,
)

from wattline_notifications.handlers import Notifications, events


def register(n: Notifications) -> None:
    """Route each consumed event type to its handler."""
    consumer = n.service.consumer
    assert consumer is not None
    consumer.on(CustomerActivatedV1)(events.on_customer_activated)
    consumer.on(ProcessStatusChangedV1)(events.on_process_status_changed)
    consumer.on(InvoiceIssuedV1)(events.on_invoice_issued)
    consumer.on(PaymentOverdueV1)(events.on_payment_overdue)
    consumer.on(CustomerOffboardedV1)(events.on_customer_offboarded)
