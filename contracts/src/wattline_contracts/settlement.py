"""Events published by the settlement service: settled periods and their corrections.

Amounts are DKK excl. VAT unless named ``vat``/``total``, exact decimals rounded half up to
2 decimals (strings on the wire); quantities kWh with 3 decimals.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from wattline_contracts.envelope import Event

Gsrn = Field(pattern=r"^57[0-9]{16}$")


class ChargeAmountV1(BaseModel):
    """What one linked DataHub charge contributes to a line (a ``grid_tariff`` line may sum
    several grid tariffs): the kWh it applied to, or the days a subscription was linked, and
    its exact amount rounded half up to 6 decimals. For reconciliation with DataHub's
    wholesale settlement (RSM-019); the invoice uses the line's amount."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    charge_type: Literal["D01", "D02", "D03"]
    charge_owner_gln: str = Field(pattern=r"^[0-9]{13}$")
    charge_id: str
    quantity_kwh: Decimal | None = None
    days: int | None = None
    amount: Decimal


class SettlementLineV1(BaseModel):
    """One invoice line: ``spot_energy``, ``supplier_margin`` (or ``fixed_price_energy``),
    ``grid_tariff``, ``system_tariff``, ``transmission_tariff``, ``electricity_tax``,
    ``grid_subscription``, ``supplier_subscription``, the fees (DataHub D02, one-off, only in
    the period that holds their date, without quantity or days) ``grid_fee`` and
    ``energinet_fee``, or ``solar_export_credit``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    quantity_kwh: Decimal | None = Field(description="per-kWh lines; None for subscriptions")
    days: int | None = Field(description="subscriptions: local days; None otherwise")
    amount: Decimal
    unit_price: Decimal | None = Field(
        default=None, description="amount / quantity (or per day), 6 decimals, informative"
    )
    charges: list[ChargeAmountV1] = Field(
        default_factory=list,
        description="the DataHub charges behind the line, one by one (empty: not a charge "
        "line, or not known); in a correction, the change per charge",
    )


class ProductUsedV1(BaseModel):
    """A product version that applied during part of the settled period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str
    product_version: int
    start_date: date
    end_date: date


class SettlementCompletedV1(Event):
    """A metering point settled for (part of) a billing period: what ERP and invoicing bill."""

    TYPE: ClassVar[str] = "settlement.completed"
    VERSION: ClassVar[int] = 1

    settlement_id: str
    run_id: str
    gsrn: str = Gsrn
    customer_id: str
    supply_period_id: str
    billing_period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM (local)")
    period_start: date = Field(description="local date, first day settled")
    period_end: date = Field(description="local date, exclusive")
    grid_area: str
    price_area: Literal["DK1", "DK2"]
    resolution: Literal["PT1H", "PT15M"]
    products: list[ProductUsedV1]
    consumption_kwh: Decimal
    lines: list[SettlementLineV1]
    subtotal: Decimal
    vat_rate: Decimal
    vat: Decimal
    total: Decimal


class SettlementCorrectionV1(Event):
    """A delta to an earlier settlement (seed 002's adjustment): added to what was settled
    before, it gives what the current data settles to, line by line, to the øre."""

    TYPE: ClassVar[str] = "settlement.correction"
    VERSION: ClassVar[int] = 1

    correction_id: str
    settlement_id: str = Field(description="the settlement it corrects")
    gsrn: str = Gsrn
    customer_id: str
    billing_period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$")
    period_start: date = Field(description="the period settled now (may differ: BRS-011)")
    period_end: date
    reason: Literal[
        "metering_data_corrected",
        "supply_period_changed",
        "erroneous_switch",
        "charge_prices_changed",
        "charge_links_changed",
        "contract_changed",
        "spot_prices_changed",
        "master_data_changed",
    ] = Field(
        description="what changed: newer metering data, the supply period, or a "
        "back-dated charge price, charge link, contract, spot price or master data"
    )
    consumption_kwh: Decimal
    lines: list[SettlementLineV1]
    subtotal: Decimal
    vat: Decimal
    total: Decimal
