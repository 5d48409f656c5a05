"""Events published by the datahub service: what DataHub told us, and what we asked it.

Quantities are kWh as exact decimals (strings on the wire); ``None`` is a missing value.
Every inbound event names the DataHub message it came from (``datahub_message_id``: the
MessageId DataHub served it under, which is also what makes storing it idempotent).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wattline_contracts.envelope import Event
from wattline_contracts.portfolio import RequestKind

Gsrn = Field(pattern=r"^57[0-9]{16}$")


class MeasureDataReceivedV1(Event):
    """Validated metered data (RSM-012) for one metering point and one Danish local day."""

    TYPE: ClassVar[str] = "datahub.measure_data.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    transaction_id: str
    original_transaction_id: str | None = None
    gsrn: str = Gsrn
    metering_point_type: str
    local_date: date
    resolution: Literal["PT15M", "PT1H"]
    quantities_kwh: list[Decimal | None] = Field(description="in time order, one per position")
    qualities: list[str | None]

    def sent(self) -> list[bool]:
        """Per position, whether DataHub sent it. A series covering part of the day (a
        correction of some hours) leaves the other positions with neither quantity nor
        quality: they keep what an earlier message said. A value DataHub sent as missing has
        quality A02."""
        return [
            not (kwh is None and quality is None)
            for kwh, quality in zip(self.quantities_kwh, self.qualities, strict=True)
        ]


class AggregationsReceivedV1(Event):
    """DataHub's own totals (RSM-014) for a grid area, supplier and balance responsible."""

    TYPE: ClassVar[str] = "datahub.aggregations.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    transaction_id: str
    process_type: str
    grid_area: str
    metering_point_type: str
    settlement_method: str | None = None
    energy_supplier_gln: str | None = None
    balance_responsible_gln: str | None = None
    settlement_version: str | None = None
    resolution: str
    start: AwareDatetime
    end: AwareDatetime
    quantities_kwh: list[Decimal | None]
    qualities: list[str | None]


class MasterDataReceivedV1(Event):
    """Metering point master data (RSM-022), e.g. when our supply starts."""

    TYPE: ClassVar[str] = "datahub.master_data.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    transaction_id: str
    process_type: str
    process_reference: str | None = None
    gsrn: str = Gsrn
    validity_start: AwareDatetime
    metering_point_type: str
    settlement_method: str | None = None
    resolution: str | None = None
    grid_area: str
    connection_state: str | None = None
    energy_supplier_gln: str | None = None
    supply_start: AwareDatetime | None = None
    estimated_annual_volume_kwh: Decimal | None = None
    dar_id: str | None = None


class Reason(BaseModel):
    """A rejection reason from DataHub's code list (E10, E16, E17, E22, D16, D17, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    text: str | None = None


class ProcessAnsweredV1(Event):
    """DataHub confirmed or rejected one of our requests (RSM-001 answer)."""

    TYPE: ClassVar[str] = "datahub.process.answered"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    process_type: str
    original_transaction_id: str = Field(description="the transaction id of our request")
    gsrn: str | None = None
    accepted: bool
    process_reference: str | None = Field(default=None, description="DataHub's process id")
    reasons: list[Reason] = []


class NotificationReceivedV1(Event):
    """A generic notification (RSM-004), e.g. another supplier takes over from a date."""

    TYPE: ClassVar[str] = "datahub.notification.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    transaction_id: str
    process_type: str
    gsrn: str = Gsrn
    validity_start: AwareDatetime
    process_reference: str | None = None


class PriceSeriesV1(BaseModel):
    """Prices of a charge over an interval; one price per resolution step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    resolution: str
    start: AwareDatetime
    end: AwareDatetime
    prices: list[Decimal]


class ChargeReceivedV1(Event):
    """A charge's master data (RSM-034 D18) and/or prices (D08) from its owner."""

    TYPE: ClassVar[str] = "datahub.charge.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    process_type: str
    owner_gln: str
    charge_type: Literal["D01", "D02", "D03"]
    charge_id: str
    name: str | None = None
    description: str | None = None
    resolution: str | None = None
    effective_date: AwareDatetime | None = None
    termination_date: AwareDatetime | None = None
    vat_payer: str | None = None
    transparent_invoicing: bool | None = None
    tax_indicator: bool | None = None
    price_series: list[PriceSeriesV1] = []


class ChargeLinkReceivedV1(Event):
    """A metering point linked to a charge for a period (RSM-031)."""

    TYPE: ClassVar[str] = "datahub.charge_link.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    transaction_id: str
    gsrn: str = Gsrn
    owner_gln: str
    charge_type: Literal["D01", "D02", "D03"]
    charge_id: str
    factor: int
    start: AwareDatetime
    end: AwareDatetime | None = None


class RequestSentV1(Event):
    """A request reached DataHub (202); its answer arrives later on a queue."""

    TYPE: ClassVar[str] = "datahub.request.sent"
    VERSION: ClassVar[int] = 1

    request_id: str
    kind: RequestKind
    gsrn: str | None = None
    transaction_id: str
    sent_at: datetime


class RequestFailedV1(Event):
    """DataHub refused a request outright (400), or it could not be built."""

    TYPE: ClassVar[str] = "datahub.request.failed"
    VERSION: ClassVar[int] = 1

    request_id: str
    kind: RequestKind
    gsrn: str | None = None
    reason: str


class DataRequestRejectedV1(Event):
    """DataHub rejected one transaction of our request for data: RSM-015 (validated measure
    data), RSM-016 (aggregations) or RSM-017 (wholesale settlement). The request is closed."""

    TYPE: ClassVar[str] = "datahub.data_request.rejected"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    request_kind: Literal["RSM-015", "RSM-016", "RSM-017"]
    transaction_id: str
    original_transaction_id: str | None = Field(
        default=None, description="the transaction id of our request"
    )
    gsrn: str | None = Field(default=None, pattern=r"^57[0-9]{16}$")
    reasons: list[Reason] = Field(min_length=1)


class RejectedTransactionV1(BaseModel):
    """A transaction of a document we sent that DataHub refused, with its reasons."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transaction_id: str
    reasons: list[Reason]


class AcknowledgementReceivedV1(Event):
    """DataHub's acknowledgement (RSM-009) of a document we sent: taken as it was when it
    carries no reasons, else refused whole (`reasons`) or in part (`rejected_transactions`)."""

    TYPE: ClassVar[str] = "datahub.acknowledgement.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    received_message_id: str | None = Field(default=None, description="our document's mRID")
    received_document_type: str | None = None
    accepted: bool
    reasons: list[Reason] = []
    rejected_transactions: list[RejectedTransactionV1] = []


class MissingDataRemindedV1(Event):
    """DataHub reminds us (RSM-018) that it misses a metering point's measure data."""

    TYPE: ClassVar[str] = "datahub.missing_data.reminded"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    transaction_id: str
    gsrn: str = Gsrn
    missing_since: AwareDatetime | None = Field(
        default=None, description="the start of the first period DataHub has no data for"
    )


class WholesalePointV1(BaseModel):
    """One step of DataHub's wholesale settlement of a charge."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    quantity: Decimal | None = Field(default=None, description="kWh, or pieces for a fee")
    price: Decimal | None = Field(default=None, description="DKK per unit")
    amount: Decimal | None = Field(default=None, description="DKK: quantity x price")


class WholesaleServicesReceivedV1(Event):
    """DataHub's wholesale settlement (RSM-019) of one charge in one grid area for a supplier:
    what it calculated for the charges that reconciliation compares with our settlements."""

    TYPE: ClassVar[str] = "datahub.wholesale_services.received"
    VERSION: ClassVar[int] = 1

    datahub_message_id: str
    transaction_id: str
    calculation_version: str | None = None
    settlement_version: str | None = None
    original_transaction_id: str | None = Field(
        default=None, description="our RSM-017 request, when it answers one"
    )
    grid_area: str
    energy_supplier_gln: str
    metering_point_type: str | None = None
    settlement_method: str | None = None
    charge_type: Literal["D01", "D02", "D03"] | None = None
    charge_id: str | None = None
    charge_owner_gln: str | None = None
    quantity_unit: str
    currency: str | None = None
    resolution: str
    start: AwareDatetime
    end: AwareDatetime
    points: list[WholesalePointV1]
