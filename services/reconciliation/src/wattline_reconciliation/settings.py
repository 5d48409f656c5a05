"""Settings of the reconciliation service."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service


class ReconciliationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_RECONCILIATION_", extra="ignore")

    port: int = 8105
    tolerance_kwh: Decimal = Field(
        default=Decimal("0.001"),
        ge=0,
        le=1_000_000,
        description="an hour whose totals differ by at most this many kWh is matched",
    )
    tolerance_percent: Decimal = Field(
        default=Decimal("0"),
        ge=0,
        le=100,
        description="... or by at most this share of DataHub's total (both must be exceeded "
        "for a deviation)",
    )
    wholesale_tolerance_dkk: Decimal = Field(
        default=Decimal("0.10"),
        ge=0,
        le=1_000_000,
        description="a charge whose month differs by at most this many DKK between DataHub's "
        "wholesale settlement (RSM-019) and our settlements is matched",
    )
    request_missing: bool = Field(
        default=True,
        description="ask DataHub once per gap the job finds: its totals (RSM-016) for a day it "
        "sent none for, a metering point's data (RSM-015) where ours lacks what it counted",
    )
    request_missing_after_s: float = Field(
        default=21600.0,
        ge=0,
        le=31 * 86400,
        description="ask about a gap only once it has stood this many seconds (the other "
        "side of a day usually arrives later, not never); 0: at once",
    )
    jobs: bool = Field(
        default=True, description="run the reconciliation job (off: days wait until it runs)"
    )
    job_interval_s: float = Field(
        default=5.0, gt=0, le=3600, description="seconds between looks for days to reconcile"
    )


# The running reconciliation service: its code reads these settings typed from ``service.settings``.
ReconciliationService = Service[ReconciliationSettings]
