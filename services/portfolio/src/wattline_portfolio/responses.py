"""Response bodies of the portfolio API, typed so /docs shows every field.

Each serializes to exactly the body the views built as dicts before (`queries`): the same
keys in the same order, dates and instants as the ISO strings of ``isoformat()`` (``+00:00``,
not pydantic's ``Z``), amounts as decimal strings. PII as before: a CPR/CVR only masked.
Names carry a ``Portfolio`` prefix: the gateway merges every service's schemas by name.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)


class _Body(BaseModel):
    # A key the view has and the model not is an error, never a field silently dropped.
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, body: dict[str, Any]) -> Self:
        """The model of a view's *body* (its keys exactly the model's fields)."""
        return cls.model_validate(body)


class PortfolioPrices(_Body):
    version: int
    valid_from: str = Field(description="ISO date")
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: str = Field(description="decimal string")
    fixed_price_dkk_per_kwh: str | None = Field(description="decimal string; None for spot")
    subscription_dkk_per_month: str = Field(description="decimal string")


class _ProductBase(_Body):
    product_id: str
    name: str
    description: str
    green_energy: bool
    display_order: int
    active: bool


class PortfolioProductOffer(_ProductBase):
    """A product as a sales channel offers it today (its prices in force now)."""

    version: int
    valid_from: str = Field(description="ISO date")
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: str = Field(description="decimal string")
    fixed_price_dkk_per_kwh: str | None = Field(description="decimal string; None for spot")
    subscription_dkk_per_month: str = Field(description="decimal string")
    next_version: PortfolioPrices | None = Field(description="the next price change, if any")
    channel: Literal["web", "app", "customer_service", "partner"] | None = Field(
        default=None, description="absent unless asked for a channel's prices (?channel=)"
    )
    price_source: Literal["channel", "base"] | None = Field(
        default=None,
        description="with a channel: its own price (channel) or the product's base price, "
        "which it sells at when it has no price in force (base)",
    )
    campaign_id: str | None = Field(default=None, description="the campaign of a channel price")
    valid_to: str | None = Field(
        default=None, description="ISO date, last day of a time-limited channel price"
    )

    @model_serializer(mode="wrap")
    def _channel_keys_only_for_a_channel(self, handler: SerializerFunctionWrapHandler) -> Any:
        body = handler(self)
        if self.channel is None:  # the body of before for a plain product list
            for key in _CHANNEL_KEYS:
                body.pop(key, None)
        return body


_CHANNEL_KEYS = ("channel", "price_source", "campaign_id", "valid_to")


# The keys of today's prices in a product's body: absent (not null) when no price version is in
# force today (a product whose first version starts later).
_TODAY_KEYS = (
    "version",
    "valid_from",
    "price_type",
    "margin_dkk_per_kwh",
    "fixed_price_dkk_per_kwh",
    "subscription_dkk_per_month",
    "next_version",
)


class PortfolioProduct(_ProductBase):
    """A product with every price version and, when one is in force today, today's prices.

    One model for both cases: the document says today's keys may be absent, and a body without
    them validates against it just as one with them (two models, one of them required, were
    both matched by a priced product, which broke ``oneOf``). A product without a price in force
    today sends no today's keys at all, not nulls: the body of before.
    """

    version: int | None = Field(default=None, description="absent: no price in force today")
    valid_from: str | None = Field(default=None, description="ISO date")
    price_type: Literal["spot", "fixed"] | None = None
    margin_dkk_per_kwh: str | None = Field(default=None, description="decimal string")
    fixed_price_dkk_per_kwh: str | None = Field(
        default=None, description="decimal string; None for spot"
    )
    subscription_dkk_per_month: str | None = Field(default=None, description="decimal string")
    next_version: PortfolioPrices | None = Field(
        default=None, description="the next price change, if any"
    )
    versions: list[PortfolioPrices]
    min_margin_dkk_per_kwh: str | None = Field(
        description="decimal string: the margin corridor's lower limit; None: no limit"
    )
    max_margin_dkk_per_kwh: str | None = Field(
        description="decimal string: the margin corridor's upper limit; None: no limit"
    )

    @model_validator(mode="after")
    def _priced_whole(self) -> Self:
        # Today's prices come whole (a version with its date, type and amounts) or not at all.
        if self.version is not None and None in (
            self.valid_from,
            self.price_type,
            self.margin_dkk_per_kwh,
            self.subscription_dkk_per_month,
        ):
            raise ValueError("today's prices come with their date, type and amounts")
        if self.version is None and any(
            getattr(self, key) is not None for key in _TODAY_KEYS if key != "version"
        ):
            raise ValueError("today's prices without today's version")
        return self

    @model_serializer(mode="wrap")
    def _without_today_when_unpriced(self, handler: SerializerFunctionWrapHandler) -> Any:
        body = handler(self)
        if self.version is None:
            for key in _TODAY_KEYS:
                body.pop(key, None)
        return body


class PortfolioMeteringPoint(_Body):
    gsrn: str
    grid_area: str
    price_area: Literal["DK1", "DK2"]
    metering_point_type: Literal["E17", "E18", "E20"]
    settlement_method: Literal["D01", "E02", "E01"] | None
    resolution: Literal["PT1H", "PT15M"]


class PortfolioSignupAccepted(_Body):
    signup_id: str
    status: str
    gsrn: str
    effective_date: str = Field(description="ISO date")


class PortfolioResubmitted(PortfolioSignupAccepted):
    resubmission_of: str = Field(description="the rejected signup this corrects")


class PortfolioSignupStatus(_Body):
    signup_id: str
    status: str
    gsrn: str
    effective_date: str = Field(description="ISO date")
    rejection_reason: str | None
    end_reason: str | None
    end_date: str | None = Field(description="ISO date")


class PortfolioSignupCancelled(_Body):
    signup_id: str
    status: str
    cancellation: Literal["requested", "done"]


class PortfolioSignupRow(_Body):
    signup_id: str
    status: str
    gsrn: str
    type: str
    effective_date: str = Field(description="ISO date")
    customer_name: str
    rejection_reason: str | None
    end_reason: str | None
    end_date: str | None = Field(description="ISO date")
    created_at: str = Field(description="ISO instant")


class PortfolioSignupPage(_Body):
    items: list[PortfolioSignupRow]
    total: int
    page: int
    page_size: int


class PortfolioBillingAddress(_Body):
    street: str
    house_number: str
    floor: str | None
    door: str | None
    postal_code: str
    city: str


class PortfolioPerson(_Body):
    """A customer or payer; the CPR/CVR masked (its last four digits as ``****``)."""

    id: str
    name: str
    cpr_cvr: str = Field(description="masked")
    contact_type: str
    email: str | None
    phone: str | None
    billing_address: PortfolioBillingAddress


class PortfolioProcess(_Body):
    process_id: str
    kind: str
    gsrn: str
    effective_date: str = Field(description="ISO date")
    status: str
    signup_id: str | None
    datahub_reference: str | None
    reasons: list[str]
    sent: bool
    created_at: str = Field(description="ISO instant")


class PortfolioSignupDetail(PortfolioSignupRow):
    dar_id: str
    product_id: str
    product_version: int
    customer: PortfolioPerson
    payer: PortfolioPerson | None
    process: PortfolioProcess
    resubmission_of: str | None
    resubmitted_as: str | None
    updated_at: str = Field(description="ISO instant")


class PortfolioProcessEvent(_Body):
    at: str = Field(description="ISO instant")
    process_id: str
    kind: str
    status: str
    source: str
    detail: str | None


class PortfolioProcessDetail(PortfolioProcess):
    events: list[PortfolioProcessEvent]


class PortfolioProcessPage(_Body):
    items: list[PortfolioProcess]
    page: int
    page_size: int


class PortfolioProcessCancelled(_Body):
    process_id: str
    cancellation: Literal["requested", "done"]


class PortfolioOpenProcess(_Body):
    process_id: str
    kind: str
    status: str
    signup_id: str | None


class PortfolioAddressPoint(_Body):
    gsrn: str
    supplied_by_us: bool
    open_process: PortfolioOpenProcess | None


class PortfolioAddress(_Body):
    dar_id: str
    gsrns: list[str]
    metering_points: list[PortfolioAddressPoint]


class PortfolioCustomerRow(_Body):
    customer_id: str
    name: str
    cpr_cvr: str = Field(description="masked")
    contact_type: str
    status: Literal["active", "inactive"]
    created_at: str = Field(description="ISO instant")


class PortfolioCustomerPage(_Body):
    items: list[PortfolioCustomerRow]
    total: int
    page: int
    page_size: int


class PortfolioSupplyPeriod(_Body):
    supply_period_id: str
    gsrn: str
    start_date: str = Field(description="ISO date")
    end_date: str | None = Field(description="ISO date")
    status: str
    end_reason: str | None


class PortfolioContract(_Body):
    contract_id: str
    gsrn: str
    product_id: str
    product_name: str
    product_version: int
    start_date: str = Field(description="ISO date")
    end_date: str | None = Field(description="ISO date")
    billing_frequency: str
    payment_model: str
    payer_id: str | None


class PortfolioCustomerDetail(PortfolioPerson):
    customer_id: str
    signups: list[PortfolioSignupRow]
    supply_periods: list[PortfolioSupplyPeriod]
    contracts: list[PortfolioContract]
    metering_points: list[PortfolioMeteringPoint]
    payers: list[PortfolioPerson]


class PortfolioContractChanged(_Body):
    contract_id: str
    product_id: str
    product_version: int
    start_date: str = Field(description="ISO date")
    end_date: str | None = Field(description="ISO date")


class PortfolioChannelVersion(_Body):
    """A channel's price version as published (never rewritten)."""

    channel: Literal["web", "app", "customer_service", "partner"]
    campaign_id: str
    version: int = Field(description="the product version a contract signed through it keeps")
    valid_from: str = Field(description="ISO date")
    valid_to: str | None = Field(description="ISO date, inclusive; None: until the next")
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: str = Field(description="decimal string")
    fixed_price_dkk_per_kwh: str | None = Field(description="decimal string; None for spot")
    subscription_dkk_per_month: str = Field(description="decimal string")


class PortfolioChannelPrice(_Body):
    """What a channel sells a product at on the day asked: its own version or the base."""

    channel: Literal["web", "app", "customer_service", "partner"]
    price_source: Literal["channel", "base"]
    campaign_id: str | None
    version: int
    valid_from: str = Field(description="ISO date")
    valid_to: str | None = Field(description="ISO date, inclusive")
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: str = Field(description="decimal string")
    fixed_price_dkk_per_kwh: str | None = Field(description="decimal string; None for spot")
    subscription_dkk_per_month: str = Field(description="decimal string")


class PortfolioChannelPrices(_Body):
    product_id: str
    as_of: str = Field(description="ISO date the current prices are for")
    min_margin_dkk_per_kwh: str | None
    max_margin_dkk_per_kwh: str | None
    current: list[PortfolioChannelPrice] = Field(
        description="per channel; a channel is missing when the product has no price that day"
    )
    versions: list[PortfolioChannelVersion] = Field(
        description="every channel version, newest first"
    )


class PortfolioCampaign(_Body):
    """A published campaign: its rows, each a new product version."""

    product_id: str
    campaign_id: str
    valid_from: str = Field(description="ISO date")
    valid_to: str | None = Field(description="ISO date, inclusive")
    versions: list[PortfolioChannelVersion]


class PortfolioHistoryEntry(_Body):
    entry_id: int
    occurred_at: str = Field(description="ISO instant")
    kind: Literal[
        "profile_updated",
        "signup_registered",
        "signup_rejected",
        "signup_cancelled",
        "supply_activated",
        "supply_ended",
        "product_changed",
        "invoice_issued",
        "credit_note_issued",
        "payment_received",
        "payment_overdue",
        "gdpr",
    ]
    performed_by: str = Field(description="the API key's name, or 'system'")
    correlation_id: str | None
    description_da: str
    description_en: str
    reference: str | None = Field(description="the signup, invoice number or other id it concerns")


class PortfolioHistoryPage(_Body):
    items: list[PortfolioHistoryEntry] = Field(description="oldest first")
    next_cursor: str | None = Field(description="pass as ?after= for the next page; None: last")
