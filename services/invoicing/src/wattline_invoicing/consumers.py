"""Invoicing's subscriptions (thin: the platform decodes and deduplicates)."""

from __future__ import annotations

from wattline_contracts.portfolio import (
    ContractChangedV1,
    CustomerActivatedV1,
    CustomerOffboardedV1,
    ProductVersionPublishedV1,
)
from wattline_contracts.settlement import SettlementCompletedV1, SettlementCorrectionV1

from wattline_invoicing.handlers import Invoicing, accounts, billables


def register(inv: Invoicing) -> None:
    """Route each consumed event type to its handler."""
    consumer = inv.service.consumer
    assert consumer is not None
    consumer.on(CustomerActivatedV1)(accounts.on_customer_activated)
    consumer.on(ContractChangedV1)(accounts.on_contract_changed)
    consumer.on(CustomerOffboardedV1)(accounts.on_customer_offboarded)
    consumer.on(ProductVersionPublishedV1)(accounts.on_product_version_published)
    consumer.on(SettlementCompletedV1)(billables.on_settlement_completed)
    consumer.on(SettlementCorrectionV1)(billables.on_settlement_correction(inv.settings.vat_rate))
