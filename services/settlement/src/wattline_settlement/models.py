"""Settlement API models: each response a body exactly as the views of ``handlers`` build it
(amounts and kWh as decimal strings, instants as ISO 8601 strings, dates ISO), and the
request bodies the API takes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from annotated_types import Ge
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.inputs import (
    BillingPeriod,
    BusinessDate,
    DkkPerKwh,
    Kwh,
)

RunStatus = Literal["waiting", "queued", "running", "completed", "blocked", "failed"]


Amount = Annotated[str, Field(description="DKK, 2 decimals", examples=["779.19"])]


Quantity = Annotated[str, Field(description="kWh, 3 decimals", examples=["243.780"])]


Instant = Annotated[str, Field(description="ISO 8601 instant (UTC)")]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SettlementMeteringPointCounts(_Out):
    metering_points: int
    master_data_versions: int = Field(description="master-data versions applied, all told")


class SettlementMeteringPoint(_Out):
    gsrn: str
    grid_area: str
    price_area: str
    metering_point_type: str
    settlement_method: str | None
    resolution: str
    master_data_versions: int


class RunProgress(_Out):
    total: int = Field(description="items (supply periods clipped to the month) in scope")
    done: int
    settled: int = Field(description="settled by this run")
    blocked: int = Field(description="still unsettled (reasons in the run's detail)")
    already_settled: int = Field(description="settled by another run")


class SettlementRun(_Out):
    """A run as back office sees it (see ``runs.run_view``)."""

    run_id: str
    billing_period: str = Field(description="YYYY-MM")
    grid_area: str | None = Field(description="the run's grid area; null: every one")
    trigger: Literal["schedule", "retry", "api", "cli"]
    status: RunStatus
    progress: RunProgress
    attempts: int
    reason: str | None = Field(description="why it waits, or failed")
    requested_at: Instant
    started_at: Instant | None
    finished_at: Instant | None


class BlockedItem(_Out):
    gsrn: str
    reason: str


class SettlementRunDetail(SettlementRun):
    blocked: list[BlockedItem] = Field(description="what it could not settle, first 100 by GSRN")


class SettlementRunPage(_Out):
    items: list[SettlementRun]
    total: int
    page: int
    page_size: int


class SettledPeriod(_Out):
    start: date = Field(description="first Danish local date")
    end: date = Field(description="day after the last (exclusive)")


class LineChargeAmount(_Out):
    """What one DataHub charge of a line came to."""

    owner_gln: str
    charge_type: str
    charge_id: str
    quantity_kwh: Quantity | None
    days: int | None
    amount: Amount


class SettlementLine(_Out):
    code: str = Field(description="spot_energy, grid_tariff, electricity_tax, grid_fee, …")
    quantity_kwh: Quantity | None
    days: int | None = Field(description="days of a subscription line")
    amount: Amount
    # Absent (not null) on lines stored before the per-charge amounts were, as before.
    charges: list[LineChargeAmount] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="per DataHub charge, when known",
    )


class SettlementOut(_Out):
    settlement_id: str
    run_id: str
    gsrn: str
    customer_id: str
    billing_period: str = Field(description="YYYY-MM")
    period: SettledPeriod
    grid_area: str
    consumption_kwh: Quantity
    lines: list[SettlementLine]
    subtotal: Amount
    vat: Amount
    total: Amount
    current_total: Amount = Field(description="the total with every correction since")
    credited: bool
    invoice_id: str | None
    invoiced_at: Instant | None


class SettlementPage(_Out):
    items: list[SettlementOut]
    total: int
    page: int
    page_size: int


class CorrectionOut(_Out):
    """A correction (adjustment): the delta to an earlier settlement."""

    correction_id: str
    settlement_id: str
    reason: str
    period: SettledPeriod
    consumption_kwh: Quantity
    lines: list[SettlementLine]
    subtotal: Amount
    vat: Amount
    total: Amount
    invoice_id: str | None
    invoiced_at: Instant | None
    created_at: Instant


class SettlementWithCorrections(SettlementOut):
    corrections: list[CorrectionOut]


class MeteringPointSettlements(_Out):
    gsrn: str
    settlements: list[SettlementWithCorrections]


class UninvoicedPage(_Out):
    settlements: list[SettlementOut]
    adjustments: list[CorrectionOut]
    page: int
    page_size: int


class AdjustmentPage(_Out):
    items: list[CorrectionOut]
    page: int
    page_size: int


class MarkedInvoiced(_Out):
    id: str
    invoice_id: str
    kind: Literal["settlement", "settlement_correction"]


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: BillingPeriod = Field(description="billing period YYYY-MM")
    grid_area: str | None = Field(default=None, pattern=r"^[0-9]{3}$")


class MarkInvoicedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_id: str = Field(min_length=1, max_length=100)


class ElvarmeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_date: BusinessDate
    consumed_kwh_before: Kwh = Field(
        default=Decimal(0), description="kWh counted in from_date's year"
    )
    threshold_kwh: Kwh = Decimal(4000)


class Elvarme(_Out):
    """A metering point's elvarme, as registered."""

    gsrn: str
    from_date: date
    consumed_kwh_before: Decimal = Field(description="kWh counted in from_date's year")
    threshold_kwh: Decimal


class ReducedTaxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_from: BusinessDate
    dkk_per_kwh: Annotated[DkkPerKwh, Ge(0)]


class ReducedElectricityTax(_Out):
    """The reduced electricity tax rate from a date, as registered."""

    valid_from: date
    dkk_per_kwh: Decimal
