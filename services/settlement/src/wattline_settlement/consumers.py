"""Settlement's subscriptions (thin: the platform decodes and deduplicates)."""

from __future__ import annotations

from wattline_contracts.invoicing import CreditNoteIssuedV1, InvoiceIssuedV1
from wattline_contracts.portfolio import MeteringPointRegisteredV1

from wattline_settlement import handlers, metering, pricing
from wattline_settlement.settings import SettlementService


def register(service: SettlementService) -> None:
    """Route each consumed event type to its handler."""
    assert service.consumer is not None
    service.consumer.on(MeteringPointRegisteredV1)(handlers.on_metering_point_registered)
    service.consumer.on(InvoiceIssuedV1)(handlers.on_document_issued)
    service.consumer.on(CreditNoteIssuedV1)(handlers.on_document_issued)
    metering.register(service)
    pricing.register(service)
