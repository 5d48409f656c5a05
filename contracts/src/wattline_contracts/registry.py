"""Every event type Wattline publishes, by name."""

from __future__ import annotations

from wattline_contracts.datahub import (
    AcknowledgementReceivedV1,
    AggregationsReceivedV1,
    ChargeLinkReceivedV1,
    ChargeReceivedV1,
    DataRequestRejectedV1,
    MasterDataReceivedV1,
    MeasureDataReceivedV1,
    MissingDataRemindedV1,
    NotificationReceivedV1,
    ProcessAnsweredV1,
    RequestFailedV1,
    RequestSentV1,
    WholesaleServicesReceivedV1,
)
from wattline_contracts.envelope import Event
from wattline_contracts.invoicing import (
    CreditNoteIssuedV1,
    InvoiceIssuedV1,
    PaymentFailedV1,
    PaymentOverdueV1,
    PaymentReceivedV1,
    ReminderSentV1,
)
from wattline_contracts.portfolio import (
    ChannelPricesPublishedV1,
    ContractChangedV1,
    CustomerActivatedV1,
    CustomerOffboardedV1,
    DataHubRequestRaisedV1,
    MeteringPointRegisteredV1,
    ProcessStatusChangedV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
)
from wattline_contracts.reconciliation import (
    DataRequestRaisedV1,
    DeviationDetectedV1,
    WholesaleDeviationDetectedV1,
)
from wattline_contracts.settlement import SettlementCompletedV1, SettlementCorrectionV1

EVENTS: tuple[type[Event], ...] = (
    MeteringPointRegisteredV1,
    ProductVersionPublishedV1,
    ChannelPricesPublishedV1,
    SupplyPeriodChangedV1,
    ContractChangedV1,
    CustomerActivatedV1,
    CustomerOffboardedV1,
    ProcessStatusChangedV1,
    DataHubRequestRaisedV1,
    MeasureDataReceivedV1,
    AggregationsReceivedV1,
    MasterDataReceivedV1,
    ProcessAnsweredV1,
    NotificationReceivedV1,
    ChargeReceivedV1,
    ChargeLinkReceivedV1,
    RequestSentV1,
    RequestFailedV1,
    DataRequestRejectedV1,
    AcknowledgementReceivedV1,
    MissingDataRemindedV1,
    WholesaleServicesReceivedV1,
    SettlementCompletedV1,
    SettlementCorrectionV1,
    InvoiceIssuedV1,
    CreditNoteIssuedV1,
    PaymentReceivedV1,
    PaymentFailedV1,
    PaymentOverdueV1,
    ReminderSentV1,
    DeviationDetectedV1,
    DataRequestRaisedV1,
    WholesaleDeviationDetectedV1,
)

_BY_KEY = {(e.TYPE, e.VERSION): e for e in EVENTS}


def event_class(type_: str, version: int) -> type[Event] | None:
    """The model of event *type_* in *version*, or None if unknown."""
    return _BY_KEY.get((type_, version))


def topics() -> list[str]:
    """Topic names of all registered events."""
    return sorted({e.topic() for e in EVENTS})
