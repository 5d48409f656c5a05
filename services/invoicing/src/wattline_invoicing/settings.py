"""Settings of the invoicing service."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service

from wattline_invoicing.domain.aconto import AcontoDefault
from wattline_invoicing.domain.dunning import Policy
from wattline_invoicing.domain.journal import Accounts


class AcontoDefaultSetting(BaseModel):
    """A new customer's aconto estimate: annual kWh and prices excl. VAT."""

    annual_kwh: Decimal = Field(ge=0)
    dkk_per_kwh: Decimal
    subscriptions_per_month: Decimal = Field(ge=0)

    def domain(self) -> AcontoDefault:
        return AcontoDefault(self.annual_kwh, self.dkk_per_kwh, self.subscriptions_per_month)


class JournalAccountsSetting(BaseModel):
    """The chart of accounts the posting journal books on (codes as the ERP knows them)."""

    receivables: str = "1100"
    bank: str = "5820"
    vat: str = "8510"
    prepayments: str = "8400"
    supplier: str = "1010"
    grid: str = "1020"
    energinet: str = "1030"
    elafgift: str = "1040"
    fees: str = "1090"
    interest: str = "1095"

    def domain(self) -> Accounts:
        return Accounts(**self.model_dump())


class SupplierSetting(BaseModel):
    """Who the bills come from: printed on every bill (faktureringsbekendtgørelsen asks for
    the contact details)."""

    name: str = "Wattline Energi A/S"
    address_lines: tuple[str, ...] = ("Strandvejen 1", "2900 Hellerup")
    cvr: str = "12345678"
    phone: str = "70 10 20 30"
    email: str = "kundeservice@wattline.example"
    website: str = "www.wattline.example"


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class InvoicingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_INVOICING_", extra="ignore")

    port: int = 8104
    payment_terms_days: int = Field(
        default=14,
        ge=0,
        le=90,
        description="days from issue to due date (moved to the next Danish business day)",
    )
    credit_notes_own_series: bool = Field(
        default=True,
        description="credit notes numbered K2026-00001 in their own series (false: the "
        "invoices' series)",
    )
    correction_policy: Literal["credit_note", "next_invoice"] = Field(
        default="credit_note",
        description="a correction of an invoiced settlement: its own credit note (or "
        "supplementary invoice) at once, or lines on the payer's next invoice",
    )
    close_after_days: int = Field(
        default=6,
        ge=0,
        description="days after a cycle ends before its invoices are issued (settlement "
        "runs from the 6th)",
    )
    vat_rate: Decimal = Field(
        default=Decimal("0.25"), description="VAT of a correction whose settlement is unknown"
    )
    fi_creditor_number: str = Field(
        default="81234567",
        pattern=r"^8\d{7}$",
        description="FI-kreditornummer on the +71 code line (the bank's FI agreement)",
    )
    aconto_defaults: dict[str, AcontoDefaultSetting] = Field(
        default_factory=lambda: {
            "*": AcontoDefaultSetting(
                annual_kwh=Decimal(4000),
                dkk_per_kwh=Decimal("2.00"),
                subscriptions_per_month=Decimal("60.00"),
            )
        },
        description="product id (or '*') -> a new customer's aconto estimate basis (JSON)",
    )
    dunning_grace_business_days: int = Field(
        default=3, ge=0, description="business days after the due date before it is overdue"
    )
    dunning_reminders: int = Field(default=3, ge=1, le=6, description="reminders before collection")
    dunning_interval_days: int = Field(
        default=10, ge=10, description="days between reminders (renteloven: at least 10)"
    )
    dunning_fee: Decimal = Field(
        default=Decimal("100.00"),
        ge=0,
        le=100,
        description="fee per reminder, on the first three only (renteloven: at most 100 kr)",
    )
    dunning_collection_after_days: int = Field(
        default=10, ge=10, description="days after the last reminder before debt collection"
    )
    dunning_interest: bool = Field(
        default=True, description="charge late-payment interest (reference rate + 8 %)"
    )
    bs_data_supplier: str = Field(
        default="12345678", pattern=r"^\d{8}$", description="Betalingsservice data supplier no."
    )
    bs_creditor_pbs: str = Field(
        default="04567890", pattern=r"^\d{8}$", description="Betalingsservice creditor PBS no."
    )
    bs_debtor_group: str = Field(
        default="00001", pattern=r"^\d{5}$", description="Betalingsservice debtor group"
    )
    bs_bank_registration: str = Field(
        default="1234", pattern=r"^\d{4}$", description="the account collections go to: reg. no."
    )
    bs_bank_account: str = Field(
        default="0001234567", pattern=r"^\d{10}$", description="... and account no."
    )
    payment_file_max_bytes: int = Field(
        default=30_000_000, ge=1, description="bytes a payment file may have (413 above)"
    )
    journal_accounts: JournalAccountsSetting = Field(
        default_factory=JournalAccountsSetting,
        description="account codes of the posting journal (JSON: receivables, bank, vat, "
        "prepayments, supplier, grid, energinet, elafgift, fees, interest)",
    )
    supplier: SupplierSetting = Field(
        default_factory=SupplierSetting,
        description="the supplier on the bills (JSON: name, address_lines, cvr, phone, email, "
        "website)",
    )
    smtp_url: str | None = Field(
        default=None,
        description="the mail server bills are e-mailed through: smtp://host:port (STARTTLS "
        "when smtp_starttls) or smtps://host:port (TLS from the first byte), port 25/465 when "
        "left out; unset: nothing is e-mailed and the bills' deliveries wait as pending until "
        "it is set",
    )
    smtp_from: str = Field(
        default="faktura@wattline.example",
        description="the bills' sender: an address, or 'Name <address>' (without a name the "
        "supplier's name is shown)",
    )
    smtp_starttls: bool = Field(
        default=False,
        description="upgrade an smtp:// connection with STARTTLS before anything is sent "
        "(refused by the server: the delivery fails and is retried)",
    )
    smtp_username: str | None = Field(
        default=None, description="log in to the mail server as this user (unset: no login)"
    )
    smtp_password: SecretStr | None = Field(default=None, description="... with this password")
    smtp_timeout_s: float = Field(
        default=30.0, gt=0, le=300, description="seconds the mail server may take to answer"
    )
    email_subject: str = Field(
        default="{document} {number} fra {supplier}",
        max_length=200,
        description="subject of a bill's e-mail: {document} (Faktura or Kreditnota), {number} "
        "and {supplier} are filled in",
    )
    delivery_batch_size: int = Field(
        default=20, ge=1, le=500, description="deliveries a replica takes at a time"
    )
    delivery_concurrency: int = Field(
        default=4, ge=1, le=32, description="e-mails a replica sends at once"
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="let webhooks go to loopback, private and link-local addresses (tests and "
        "a developer's own receiver only: the services behind the gateway trust their callers)",
    )
    jobs: bool = Field(default=True, description="run the billing job (cycles, corrections)")
    job_interval_s: float = Field(default=5.0, gt=0, description="how often the job looks")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("smtp://", "smtps://")):
            raise ValueError("an smtp:// or smtps:// URL")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        _, address = parseaddr(value)
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in address):
            raise ValueError(f"an address or 'Name <address>', not {value!r}")
        return value

    @field_validator("email_subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        try:
            value.format(document="Faktura", number="2026-00001", supplier="Wattline")
        except (KeyError, IndexError, AttributeError, TypeError, ValueError) as exc:
            raise ValueError(
                f"only {{document}}, {{number}} and {{supplier}} can be filled in ({exc!r})"
            ) from None
        return value

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> InvoicingSettings:
        # A login over a connection without TLS would hand the password to the network; a
        # mail server on this machine (the local one of `wattline up`) is the one exception.
        url = urlsplit(self.smtp_url or "")
        in_clear = url.scheme == "smtp" and not self.smtp_starttls
        if self.smtp_username and in_clear and not _loopback(url.hostname):
            raise ValueError(
                "smtp_username over smtp:// without smtp_starttls would send the password "
                "unencrypted: set smtp_starttls or use smtps://"
            )
        return self

    def dunning_policy(self) -> Policy:
        return Policy(
            grace_business_days=self.dunning_grace_business_days,
            reminders=self.dunning_reminders,
            reminder_interval_days=self.dunning_interval_days,
            reminder_fee=self.dunning_fee,
            collection_after_days=self.dunning_collection_after_days,
            interest=self.dunning_interest,
        )

    def aconto_default(self, product_id: str) -> AcontoDefault:
        chosen = self.aconto_defaults.get(product_id) or self.aconto_defaults.get("*")
        if chosen is None:
            return AcontoDefault(Decimal(4000), Decimal("2.00"), Decimal("60.00"))
        return chosen.domain()


# The running invoicing service: its code reads these settings typed from ``service.settings``.
InvoicingService = Service[InvoicingSettings]
