"""Request bodies of the portfolio API (what sales channels and back office send), the
import's report and the customer portal's answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, model_validator
from wattline_platform.inputs import BusinessDate, DkkPerKwh, DkkPerMonth

from wattline_portfolio.domain.identity import (
    EMAIL_PATTERN,
    POSTAL_CODE_PATTERN,
    ContactType,
    Person,
    PostalAddress,
)
from wattline_portfolio.domain.process import BackOfficeKind, SignupType

_EMAIL = EMAIL_PATTERN
_POSTAL_CODE = POSTAL_CODE_PATTERN


class SignupIn(BaseModel):
    """A signup from a sales channel (seed 000 B1). The supply point is a DAR address id; the
    billing address is the customer's postal address; a separate payer is optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dar_id: uuid.UUID
    gsrn: str | None = Field(
        default=None, description="which metering point, when the address has several"
    )
    customer_name: str = Field(min_length=1, max_length=200)
    cpr_cvr: str = Field(min_length=8, max_length=11, description="CPR (private) or CVR")
    contact_type: ContactType
    email: str | None = Field(default=None, pattern=_EMAIL, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    product_id: uuid.UUID
    channel: Literal["web", "app", "customer_service", "partner"] | None = Field(
        default=None,
        description="whose prices the customer signs: a channel's key signs its own channel's "
        "(a partner's key: partner); back office may name one; none: the base price",
    )
    type: SignupType
    effective_date: BusinessDate | None = Field(
        default=None,
        description="omitted: as soon as the rules allow (a switch after the notice period, "
        "a move-in today)",
    )
    billing_street: str = Field(min_length=1, max_length=200)
    billing_house_number: str = Field(min_length=1, max_length=20)
    billing_floor: str | None = Field(default=None, max_length=10)
    billing_door: str | None = Field(default=None, max_length=10)
    billing_postal_code: str = Field(pattern=_POSTAL_CODE)
    billing_city: str = Field(min_length=1, max_length=100)
    payer_name: str | None = Field(default=None, max_length=200)
    payer_cpr_cvr: str | None = Field(default=None, max_length=11)
    payer_contact_type: ContactType | None = None
    payer_email: str | None = Field(default=None, pattern=_EMAIL, max_length=254)
    payer_phone: str | None = Field(default=None, max_length=20)
    payer_billing_street: str | None = Field(default=None, max_length=200)
    payer_billing_house_number: str | None = Field(default=None, max_length=20)
    payer_billing_floor: str | None = Field(default=None, max_length=10)
    payer_billing_door: str | None = Field(default=None, max_length=10)
    payer_billing_postal_code: str | None = Field(default=None, pattern=_POSTAL_CODE)
    payer_billing_city: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _payer_complete(self) -> Self:
        given = {k: v for k, v in self if k.startswith("payer_") and v is not None}
        required = (
            "payer_name",
            "payer_cpr_cvr",
            "payer_contact_type",
            "payer_billing_street",
            "payer_billing_house_number",
            "payer_billing_postal_code",
            "payer_billing_city",
        )
        missing = [k for k in required if k not in given]
        if given and missing:
            raise ValueError(f"a separate payer needs {', '.join(missing)}")
        return self

    def customer(self) -> Person:
        """The customer (InvalidIdentity when the CPR/CVR is not valid)."""
        return Person.checked(
            name=self.customer_name,
            cpr_cvr=self.cpr_cvr,
            contact_type=self.contact_type,
            address=PostalAddress(
                self.billing_street,
                self.billing_house_number,
                self.billing_postal_code,
                self.billing_city,
                self.billing_floor,
                self.billing_door,
            ),
            email=self.email,
            phone=self.phone,
        )

    def payer(self) -> Person | None:
        """The separate payer, if any."""
        if self.payer_name is None:
            return None
        assert self.payer_cpr_cvr and self.payer_contact_type and self.payer_billing_street
        assert self.payer_billing_house_number and self.payer_billing_postal_code
        assert self.payer_billing_city
        return Person.checked(
            name=self.payer_name,
            cpr_cvr=self.payer_cpr_cvr,
            contact_type=self.payer_contact_type,
            address=PostalAddress(
                self.payer_billing_street,
                self.payer_billing_house_number,
                self.payer_billing_postal_code,
                self.payer_billing_city,
                self.payer_billing_floor,
                self.payer_billing_door,
            ),
            email=self.payer_email,
            phone=self.payer_phone,
        )


class ResubmitIn(BaseModel):
    """Corrections to a rejected signup; everything not given is taken from it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dar_id: uuid.UUID | None = None
    gsrn: str | None = None
    customer_name: str | None = Field(default=None, min_length=1, max_length=200)
    cpr_cvr: str | None = Field(default=None, min_length=8, max_length=11)
    contact_type: ContactType | None = None
    email: str | None = Field(default=None, pattern=_EMAIL, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    product_id: uuid.UUID | None = None
    type: SignupType | None = None
    effective_date: BusinessDate | None = None


class ProcessIn(BaseModel):
    """A process back office starts for a metering point we supply."""

    model_config = ConfigDict(extra="forbid")

    kind: BackOfficeKind
    gsrn: str = Field(max_length=18)
    effective_date: BusinessDate | None = Field(
        default=None,
        description="required except for erroneous_switch (the date of the switch it undoes)",
    )


class PricesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_from: BusinessDate
    price_type: Literal["spot", "fixed"] = "spot"
    margin_dkk_per_kwh: DkkPerKwh
    subscription_dkk_per_month: DkkPerMonth
    fixed_price_dkk_per_kwh: DkkPerKwh | None = None


# Where a product is listed among the others (an ``integer`` column).
DisplayOrder = Annotated[int, Ge(0), Le(2**31 - 1)]


class ProductIn(PricesIn):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    green_energy: bool = False
    display_order: DisplayOrder = 100
    min_margin_dkk_per_kwh: DkkPerKwh | None = Field(
        default=None, description="the margin corridor's lower limit; none: no limit"
    )
    max_margin_dkk_per_kwh: DkkPerKwh | None = Field(
        default=None, description="the margin corridor's upper limit; none: no limit"
    )


Channel = Literal["web", "app", "customer_service", "partner"]


class ChannelPriceIn(BaseModel):
    """One sales channel's prices in a campaign (DKK excl. VAT)."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    price_type: Literal["spot", "fixed"] = "spot"
    margin_dkk_per_kwh: DkkPerKwh
    subscription_dkk_per_month: DkkPerMonth
    fixed_price_dkk_per_kwh: DkkPerKwh | None = None


class CampaignIn(BaseModel):
    """A campaign: channel price rows valid from a date, optionally to a date (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    valid_from: BusinessDate
    valid_to: BusinessDate | None = Field(
        default=None, description="last day (inclusive); none: until the channel's next version"
    )
    prices: list[ChannelPriceIn] = Field(min_length=1, max_length=4)


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=2000)
    green_energy: bool | None = None
    display_order: DisplayOrder | None = None
    active: bool | None = None
    min_margin_dkk_per_kwh: DkkPerKwh | None = Field(
        default=None, description="the margin corridor's lower limit, for rows published later"
    )
    max_margin_dkk_per_kwh: DkkPerKwh | None = Field(
        default=None, description="the margin corridor's upper limit, for rows published later"
    )


class ProductChangeIn(BaseModel):
    """Move a contract to another product (or a newer version) from a date."""

    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    from_date: BusinessDate


class ImportRowError(BaseModel):
    """A row of a portfolio import that was not imported, and why."""

    line: int = Field(description="line in the file; the header is line 1")
    external_id: str | None = Field(description="the row's external_id, when it has one")
    reasons: list[str] = Field(description="every problem of the row, one sentence each")


class ImportSummary(BaseModel):
    """What a portfolio import did: each row is imported entirely or not at all. The counts
    grow chunk by chunk while it runs (``finished_at`` None)."""

    import_id: uuid.UUID
    received_at: datetime
    finished_at: datetime | None = Field(description="None: still running, or interrupted")
    rows: int = Field(description="data rows in the file")
    imported: int = Field(description="rows imported by this import")
    already_imported: int = Field(description="rows whose external_id an import already took")
    rejected: int = Field(description="rows not imported; see errors")


class ImportReport(ImportSummary):
    """An import with every refused row and why."""

    errors: list[ImportRowError] = Field(description="refused rows, by line")


class ImportPage(BaseModel):
    items: list[ImportSummary]
    next_after: uuid.UUID | None = Field(description="pass as ?after= for the next page")


# -- the customer portal's answers ---------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class PortalAddress(_Out):
    street: str
    house_number: str
    floor: str | None
    door: str | None
    postal_code: str
    city: str


class PortalSupply(_Out):
    start_date: date = Field(description="first day we supply it (Danish local date)")
    end_date: date | None = Field(description="day after the last (exclusive); null: open")
    supplied_now: bool = Field(description="we supply it today")


class PortalMeteringPoint(_Out):
    gsrn: str
    type: Literal["consumption", "production", "exchange", "other"]
    grid_area: str | None = Field(description="the grid company's area (netområde)")
    price_area: Literal["DK1", "DK2"] | None
    resolution: str | None = Field(description="PT1H hourly or PT15M quarter-hourly")
    address_dar_id: uuid.UUID | None = Field(
        description="the supply address's id in Danmarks Adresseregister (DAR)"
    )
    supply: PortalSupply = Field(description="the current supply period (else the latest)")


class PortalMeteringPoints(_Out):
    name: str = Field(description="the customer's name")
    postal_address: PortalAddress = Field(description="where bills are sent")
    metering_points: list[PortalMeteringPoint]


class PortalPriceTerms(_Out):
    version: int = Field(description="the product's price version the contract signed")
    valid_from: date
    price_type: Literal["spot", "fixed"]
    margin_dkk_per_kwh: Decimal = Field(description="on top of the spot price, excl. VAT")
    fixed_price_dkk_per_kwh: Decimal | None = Field(description="fixed price, excl. VAT")
    subscription_dkk_per_month: Decimal = Field(description="excl. VAT")


class PortalProduct(_Out):
    name: str
    description: str
    green_energy: bool
    prices: PortalPriceTerms


class PortalContract(_Out):
    gsrn: str
    start_date: date
    end_date: date | None = Field(description="exclusive; null: until further notice")
    billing_frequency: Literal["monthly", "quarterly"]
    payment_model: Literal["aconto", "arrears"]
    product: PortalProduct


class PortalContracts(_Out):
    """The customer's current contract on each metering point (else the next one)."""

    contracts: list[PortalContract]
