"""Events published by the reconciliation service: where our numbers and DataHub's differ.

Quantities are kWh as exact decimals (strings on the wire).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wattline_contracts.envelope import Event


class DeviatingHourV1(BaseModel):
    """One hour where DataHub's RSM-014 total and the sum of our metering data differ by more
    than the tolerance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hour_start: AwareDatetime
    datahub_kwh: Decimal
    ours_kwh: Decimal
    deviation_kwh: Decimal = Field(description="ours - DataHub's")
    deviation_percent: Decimal | None = Field(
        description="deviation / DataHub's x 100, 2 decimals; None when DataHub's is 0"
    )


class DeviationDetectedV1(Event):
    """Energy reconciliation of one grid area, local day, metering-point type and settlement
    method found hours outside the tolerance (raised again only when they change)."""

    TYPE: ClassVar[str] = "reconciliation.deviation.detected"
    VERSION: ClassVar[int] = 1

    grid_area: str = Field(pattern=r"^[0-9]{3}$")
    local_date: date = Field(description="Danish local date")
    metering_point_type: str
    settlement_method: str | None = None
    tolerance_kwh: Decimal
    tolerance_percent: Decimal
    deviation_kwh: Decimal = Field(description="sum of the deviating hours' deviations")
    hours: list[DeviatingHourV1]


class DataRequestRaisedV1(Event):
    """Reconciliation asks DataHub for what is missing: DataHub's totals for a grid area
    (RSM-016, RequestAggregatedMeasureData), a metering point's data (RSM-015,
    RequestValidatedMeasureData) or a grid area's wholesale settlement of a month (RSM-017,
    RequestWholesaleSettlement; the period is that month's local days) over
    [period_start, period_end). The datahub service sends it as it sends
    ``portfolio.datahub_request.raised`` of the same kinds, and says what became of it with
    ``datahub.request.sent`` / ``datahub.request.failed`` (the same ``request_id``).

    RSM-017 was added to ``kind`` later: a widened literal, so every older event stays valid."""

    TYPE: ClassVar[str] = "reconciliation.data_request.raised"
    VERSION: ClassVar[int] = 1

    request_id: str = Field(description="unique per request; sending is idempotent on it")
    kind: Literal["RSM-015", "RSM-016", "RSM-017"]
    grid_area: str | None = Field(
        default=None, pattern=r"^[0-9]{3}$", description="RSM-016, RSM-017"
    )
    gsrn: str | None = Field(default=None, pattern=r"^57[0-9]{16}$", description="RSM-015")
    metering_point_type: str | None = Field(default=None, description="RSM-016: only this type")
    period_start: AwareDatetime
    period_end: AwareDatetime


class WholesaleDeviationDetectedV1(Event):
    """Wholesale reconciliation of one grid area, month and DataHub charge found that what
    DataHub calculated (RSM-019) and what our settlements billed for it (corrections added)
    differ by more than the tolerance (raised again only when the figures change)."""

    TYPE: ClassVar[str] = "reconciliation.wholesale_deviation.detected"
    VERSION: ClassVar[int] = 1

    grid_area: str = Field(pattern=r"^[0-9]{3}$")
    billing_period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM (local)")
    charge_owner_gln: str
    charge_type: str
    charge_id: str
    tolerance_dkk: Decimal
    datahub_dkk: Decimal
    ours_dkk: Decimal
    deviation_dkk: Decimal = Field(description="ours - DataHub's")
    deviation_percent: Decimal | None = Field(
        description="deviation / DataHub's x 100, 2 decimals; None when DataHub's is 0"
    )
