"""The reconciliation API's response models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["matched", "deviation", "missing_ours", "missing_datahub"]


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
