"""The reconciliation API's response models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from wattline_platform.inputs import BillingPeriod, BusinessDate

from wattline_reconciliation.domain.energy import Status


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class DayResultOut(_Out):
    """One grid area, local day, metering-point type and settlement method."""

    grid_area: str
    local_date: date
    metering_point_type: str
    settlement_method: str | None
    status: Status = Field(description="the day's worst hour")
    datahub_kwh: Decimal | None = Field(description="DataHub's total of the hours it sent")
    ours_kwh: Decimal | None = Field(description="our total of the hours we have")
    deviation_kwh: Decimal = Field(description="sum of the deviating hours' (ours - DataHub's)")
    hours_matched: int
    hours_deviating: int
    hours_missing_ours: int
    hours_missing_datahub: int
    reconciled_at: datetime


class ResultPage(_Out):
    items: list[DayResultOut]
    next: str | None = Field(description="?after= for the next page; None: the last page")


class HourOut(_Out):
    metering_point_type: str
    settlement_method: str | None
    position: int = Field(description="hour of the local day, from 0")
    hour_start: datetime
    status: Status
    datahub_kwh: Decimal | None
    ours_kwh: Decimal | None
    deviation_kwh: Decimal | None = Field(description="ours - DataHub's")
    deviation_percent: Decimal | None = Field(description="of DataHub's; None when it is 0")
    points: int = Field(description="metering points we supplied in the slice")
    points_missing: int = Field(description="... of which have no value for the hour")


class DayDetail(_Out):
    grid_area: str
    local_date: date
    slices: list[DayResultOut]
    hours: list[HourOut]


class PointOut(_Out):
    gsrn: str
    metering_point_type: str
    settlement_method: str | None
    kwh: Decimal | None = Field(description="the point's metered kWh in the hour; None: missing")


class HourDetail(_Out):
    grid_area: str
    local_date: date
    position: int
    hour_start: datetime
    ours_kwh: Decimal = Field(description="sum of the points' known values")
    points: list[PointOut]


class DataRequestIn(BaseModel):
    """Ask DataHub for its totals of a grid area (RSM-016) or a metering point's data (RSM-015)
    over local days [start_date, end_date), or for a grid area's wholesale settlement of one
    month (RSM-017, billing_period)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["RSM-015", "RSM-016", "RSM-017"]
    grid_area: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] | None = None
    gsrn: Annotated[str, StringConstraints(pattern=r"^57[0-9]{16}$")] | None = None
    metering_point_type: Literal["E17", "E18", "E20"] | None = None
    start_date: BusinessDate | None = Field(default=None, description="RSM-015, RSM-016")
    end_date: BusinessDate | None = Field(
        default=None, description="RSM-015, RSM-016: exclusive; at most 31 days after start_date"
    )
    billing_period: BillingPeriod | None = Field(
        default=None, description="RSM-017: the month, YYYY-MM (Danish local days)"
    )


class DataRequestOut(_Out):
    request_id: str
    kind: Literal["RSM-015", "RSM-016", "RSM-017"]
    grid_area: str | None
    gsrn: str | None
    metering_point_type: str | None
    period_start: datetime
    period_end: datetime


class DataRequestStatusOut(_Out):
    """A request reconciliation raised and what became of it."""

    request_id: str
    kind: Literal["RSM-015", "RSM-016", "RSM-017"]
    grid_area: str | None
    gsrn: str | None
    metering_point_type: str | None
    start_date: date
    end_date: date = Field(description="exclusive")
    automatic: bool = Field(description="raised by the job for a gap it found")
    requested_at: datetime
    status: Literal["raised", "sent", "failed", "rejected"] = Field(
        description="raised: not yet sent; sent: DataHub has it; failed: never sent (could not "
        "be built, or refused outright); rejected: DataHub refused it (reason says why)"
    )
    reason: str | None
    status_at: datetime | None


class WholesaleResultOut(_Out):
    """One grid area, month and DataHub charge: DataHub's RSM-019 against our settlements."""

    grid_area: str
    billing_period: str
    charge_owner_gln: str
    charge_type: str
    charge_id: str
    status: Status
    datahub_dkk: Decimal | None = Field(description="DataHub's wholesale settlement, DKK")
    ours_dkk: Decimal | None = Field(description="what our settlements billed, corrections added")
    deviation_dkk: Decimal | None = Field(description="ours - DataHub's")
    deviation_percent: Decimal | None = Field(description="of DataHub's; None when it is 0")
    reconciled_at: datetime


class WholesalePage(_Out):
    items: list[WholesaleResultOut]
    next: str | None = Field(description="?after= for the next page; None: the last page")


class BilledOut(_Out):
    settlement_id: str
    amount_dkk: Decimal = Field(description="the settlement's amount for the charge, corrected")
    sources: int = Field(description="the settlement and its corrections counted")


class WholesaleDetail(_Out):
    result: WholesaleResultOut
    settlements: list[BilledOut]
