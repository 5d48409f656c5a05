"""Settlement's subscriptions (thin: the platform decodes and deduplicates, and runs each
handler inside the transaction that records the event in the inbox)."""

from __future__ import annotations

from wattline_contracts.datahub import (
    ChargeLinkReceivedV1,
    ChargeReceivedV1,
    MeasureDataReceivedV1,
)
from wattline_contracts.invoicing import CreditNoteIssuedV1, InvoiceIssuedV1
from wattline_contracts.portfolio import (
    ContractChangedV1,
    MeteringPointRegisteredV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
)

from wattline_settlement.handlers import invoiced, master_data, metering, pricing
from wattline_settlement.settings import SettlementService


def register(service: SettlementService) -> None:
    """Route each consumed event type to its handler."""
    assert service.consumer is not None
    on = service.consumer.on
    on(MeteringPointRegisteredV1)(master_data.on_metering_point_registered)
    on(InvoiceIssuedV1)(invoiced.on_document_issued)
    on(CreditNoteIssuedV1)(invoiced.on_document_issued)
    service.consumer.on_batch(MeasureDataReceivedV1)(metering.on_measure_data)
    on(ChargeReceivedV1)(pricing.on_charge_received)
    on(ChargeLinkReceivedV1)(pricing.on_charge_link_received)
    on(ProductVersionPublishedV1)(pricing.on_product_version_published)
    on(ContractChangedV1)(pricing.on_contract_changed)
    on(SupplyPeriodChangedV1)(pricing.on_supply_period_changed)
