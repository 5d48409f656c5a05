"""Settings of the invoicing service."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings

from wattline_invoicing.domain.aconto import AcontoDefault


class AcontoDefaultSetting(BaseModel):
    """A new customer's aconto estimate: annual kWh and prices excl. VAT."""

    annual_kwh: Decimal = Field(ge=0)
    dkk_per_kwh: Decimal
    subscriptions_per_month: Decimal = Field(ge=0)

    def domain(self) -> AcontoDefault:
        return AcontoDefault(self.annual_kwh, self.dkk_per_kwh, self.subscriptions_per_month)


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
    payment_file_max_bytes: int = Field(
        default=30_000_000, ge=1, description="bytes a payment file may have (413 above)"
    )
    jobs: bool = Field(default=True, description="run the billing job (cycles, corrections)")
    job_interval_s: float = Field(default=5.0, gt=0, description="how often the job looks")

    def aconto_default(self, product_id: str) -> AcontoDefault:
        chosen = self.aconto_defaults.get(product_id) or self.aconto_defaults.get("*")
        if chosen is None:
            return AcontoDefault(Decimal(4000), Decimal("2.00"), Decimal("60.00"))
        return chosen.domain()
