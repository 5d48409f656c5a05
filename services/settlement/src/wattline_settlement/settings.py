"""The settlement service's settings: one class, read once by the bootstrap.

Every code path reads them from the running service (``Service[SettlementSettings]``), so each
default is declared here only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from litestar.di import NamedDependency
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service

PriceArea = Literal["DK1", "DK2"]


class SettlementSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_SETTLEMENT_", extra="ignore")

    port: int = 8103
    vat_rate: Decimal = Field(default=Decimal("0.25"), description="Danish VAT (moms)")
    run_after_days: int = Field(
        default=5,
        ge=0,
        description=(
            "days after a month ends before the schedule may start its settlement run (5: "
            "from the 6th of the next month); it starts then only once the month's metering "
            "data is complete (every local day of each supply period, every value)"
        ),
    )
    run_deadline_days: int = Field(
        default=10,
        ge=0,
        description=(
            "days after a month ends when the schedule starts its settlement run even with "
            "metering data still missing (not before run_after_days); what cannot be settled "
            "then is blocked and run again until it is"
        ),
    )
    jobs: bool = Field(default=True, description="run the run worker, corrections and schedule")
    # Where spot prices come from and how often they are fetched.
    eds_base_url: str = Field(
        default="https://api.energidataservice.dk",
        description="Energi Data Service's API root, where spot prices are fetched",
    )
    eds_timeout_s: float = Field(default=30.0, description="seconds for one EDS request")
    eds_page_size: int = Field(default=10_000, ge=1, description="records per EDS request")
    spot_price_areas: tuple[PriceArea, ...] = Field(
        default=("DK1", "DK2"), description="price areas imported (a JSON list)"
    )
    spot_import_interval_s: float = Field(
        default=3600.0, gt=0, description="how often import_job fetches yesterday..tomorrow"
    )


# The running settlement service, and the type of a route handler's ``service`` parameter.
SettlementService = Service[SettlementSettings]
SettlementDep = NamedDependency[SettlementService]
