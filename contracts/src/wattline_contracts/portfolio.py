"""Events published by the portfolio service."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wattline_contracts.envelope import Event

Gsrn = Field(pattern=r"^57[0-9]{16}$", description="18-digit GSRN of the metering point")


class MeteringPointRegisteredV1(Event):
    """A metering point entered the supplier's portfolio (or its master data changed)."""

    TYPE: ClassVar[str] = "portfolio.metering_point.registered"
    VERSION: ClassVar[int] = 1

    gsrn: str = Gsrn
    grid_area: str = Field(pattern=r"^[0-9]{3}$")
    price_area: Literal["DK1", "DK2"]
    metering_point_type: Literal["E17", "E18", "E20"] = "E17"
    settlement_method: Literal["D01", "E02", "E01"] | None = "D01"
    resolution: Literal["PT1H", "PT15M"] = "PT1H"


# The business processes a supplier starts at DataHub, and everything it can ask DataHub for.
BrsKind = Literal["BRS-001", "BRS-002", "BRS-003", "BRS-009", "BRS-010", "BRS-011"]
RequestKind = Literal[
    "BRS-001",
    "BRS-002",
    "BRS-003",
    "BRS-009",
    "BRS-010",
    "BRS-011",
    "RSM-002",
    "RSM-015",
    "RSM-016",
    "RSM-017",  # reconciliation's request for a grid area's wholesale settlement of a month
]


class DataHubRequestRaisedV1(Event):
    """The portfolio asks DataHub for something (a BRS process, data): datahub sends it.

    ``customer_id_sealed`` is the CPR/CVR number sealed with the shared PII key, never the
    number itself.
    """

    TYPE: ClassVar[str] = "portfolio.datahub_request.raised"
    VERSION: ClassVar[int] = 1

    request_id: str = Field(description="unique per request; sending is idempotent on it")
    kind: RequestKind
    gsrn: str | None = Field(default=None, pattern=r"^57[0-9]{16}$")
    effective_date: date | None = Field(default=None, description="Danish local date")
    period_start: AwareDatetime | None = None
    period_end: AwareDatetime | None = None
    grid_area: str | None = Field(default=None, pattern=r"^[0-9]{3}$")
    metering_point_type: str | None = Field(
        default=None, description="RSM-016: only this metering point type (added later: optional)"
    )
    balance_responsible_gln: str | None = None
    customer_scheme: Literal["ARR", "VAT"] | None = Field(
        default=None, description="ARR: CPR, VAT: CVR"
    )
    customer_id_sealed: str | None = None
    customer_name: str | None = None
    cancels_request_id: str | None = Field(
        default=None, description="RSM-002: the request (of the same process) to cancel"
    )
    cancels_kind: BrsKind | None = Field(
        default=None, description="RSM-002: the kind of the request to cancel"
    )


# A request's DataHub ids follow from its request id, so the portfolio knows the transaction id
# DataHub's answer will refer to before the request is even sent.
_IDS = uuid.UUID("6f1c5c3e-3f0d-4a53-9b0e-2f7d8c1a9e51")


def message_id_for(request_id: str) -> str:
    """The document id of a request, fixed by its request id (a resend is the same message)."""
    return str(uuid.uuid5(_IDS, f"message:{request_id}"))


def transaction_id_for(request_id: str) -> str:
    """The transaction id of a request; DataHub's answer (and a cancellation) refers to it."""
    return str(uuid.uuid5(_IDS, f"transaction:{request_id}"))


class ProductVersionPublishedV1(Event):
    """A product's prices from a Danish local date on. Contracts name the version they signed."""

    TYPE: ClassVar[str] = "portfolio.product.version_published"
    VERSION: ClassVar[int] = 1

    product_id: str
    version: int = Field(ge=1)
    name: str
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: Decimal = Field(description="spot: added to the spot price; excl. VAT")
    fixed_price_dkk_per_kwh: Decimal | None = Field(
        default=None, description="fixed: the energy price instead of spot + margin; excl. VAT"
    )
    subscription_dkk_per_month: Decimal = Field(description="excl. VAT, charged per day")
    green_energy: bool
    valid_from: date


class ChannelPriceV1(BaseModel):
    """One sales channel's prices in a campaign: product version ``version`` of its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Literal["web", "app", "customer_service", "partner"]
    version: int = Field(ge=1, description="the product version a contract signs through it")
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: Decimal = Field(description="within the product's margin corridor")
    fixed_price_dkk_per_kwh: Decimal | None = None
    subscription_dkk_per_month: Decimal


class ChannelPricesPublishedV1(Event):
    """A campaign: sales channels' own prices of a product from ``valid_from`` (to
    ``valid_to`` inclusive, None: until the channel's next version). Each row is also
    published as ``portfolio.product.version_published`` under its version, which is how
    settlement and invoicing bill a contract signed through the channel."""

    TYPE: ClassVar[str] = "portfolio.channel_prices.published"
    VERSION: ClassVar[int] = 1

    campaign_id: str
    product_id: str
    valid_from: date
    valid_to: date | None = None
    min_margin_dkk_per_kwh: Decimal | None = Field(description="the corridor it was checked in")
    max_margin_dkk_per_kwh: Decimal | None
    prices: list[ChannelPriceV1]


SupplyReason = Literal[
    "started",  # RSM-022 confirmed our supply from start_date
    "ended",  # our supply ends at end_date (move-out, end of supply, another supplier)
    "start_corrected",  # BRS-011: the move-in date was corrected
    "reopened",  # BRS-003 by us: a wrong switch away from us was rolled back
    "rolled_back",  # BRS-003 by the previous supplier: the period was never ours
]


class SupplyPeriodChangedV1(Event):
    """The current state of one supply period: we supply ``gsrn`` from ``start_date`` until
    ``end_date`` (exclusive; None: open). ``rolled_back``: the period is void in full."""

    TYPE: ClassVar[str] = "portfolio.supply_period.changed"
    VERSION: ClassVar[int] = 1

    supply_period_id: str
    gsrn: str = Gsrn
    customer_id: str
    start_date: date = Field(description="Danish local date, first day supplied")
    end_date: date | None = Field(default=None, description="Danish local date, first day not")
    reason: SupplyReason
    process_id: str | None = Field(default=None, description="the process that changed it")


class ContractChangedV1(Event):
    """The current state of one contract: which product version applies to a metering point
    for a customer, and how it is billed. A new product version is a new contract."""

    TYPE: ClassVar[str] = "portfolio.contract.changed"
    VERSION: ClassVar[int] = 1

    contract_id: str
    gsrn: str = Gsrn
    customer_id: str
    payer_id: str | None = Field(default=None, description="None: the customer pays")
    product_id: str
    product_version: int = Field(ge=1)
    start_date: date
    end_date: date | None = None
    billing_frequency: Literal["monthly", "quarterly"]
    payment_model: Literal["aconto", "arrears"]


class Party(BaseModel):
    """Who a customer or payer is, sealed: ``sealed`` opens (with the PII key) to the JSON of
    name, CPR/CVR, e-mail, phone and postal address."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    party_id: str
    contact_type: Literal["private", "business"]
    cpr_cvr_masked: str
    sealed: str


class CustomerActivatedV1(Event):
    """Our supply for a signed-up customer started (RSM-022 on the effective date)."""

    TYPE: ClassVar[str] = "portfolio.customer.activated"
    VERSION: ClassVar[int] = 1

    customer: Party
    payer: Party | None = None
    signup_id: str
    gsrn: str = Gsrn
    effective_date: date
    contract_id: str
    supply_period_id: str


OffboardReason = Literal["move_out", "end_of_supply", "switched_away", "erroneous_switch"]


class CustomerOffboardedV1(Event):
    """Our supply of a metering point for a customer ended (``end_date`` exclusive)."""

    TYPE: ClassVar[str] = "portfolio.customer.offboarded"
    VERSION: ClassVar[int] = 1

    customer_id: str
    gsrn: str = Gsrn
    supply_period_id: str
    end_date: date
    reason: OffboardReason


ProcessStatus = Literal[
    "pending",
    "sent_to_datahub",
    "acknowledged",
    "effectuation_pending",
    "completed",
    "rejected",
    "cancellation_pending",
    "cancelled",
]


class ProcessStatusChangedV1(Event):
    """A BRS process we run at DataHub moved to ``status``."""

    TYPE: ClassVar[str] = "portfolio.process.status_changed"
    VERSION: ClassVar[int] = 1

    process_id: str
    kind: BrsKind
    gsrn: str = Gsrn
    signup_id: str | None = None
    status: ProcessStatus
    previous_status: ProcessStatus | None = None
    effective_date: date
    reasons: list[str] = Field(default=[], description="DataHub's codes with their text")
    customer: Party | None = Field(
        default=None,
        description="a signup's process: its customer, sealed (added later: optional), so the "
        "signup's confirmation can reach the customer before the supply starts",
    )
