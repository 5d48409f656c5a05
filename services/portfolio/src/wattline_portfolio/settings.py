"""Settings of the portfolio service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service

from wattline_portfolio.domain.dates import DateRules


class PortfolioSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_PORTFOLIO_", extra="ignore")

    port: int = 8101
    address_lookup_url: str | None = Field(
        default=None,
        description="DAR id -> GSRNs, a URL template ({dar_id} is filled in) answering "
        "{'gsrns': [...]} or 404; unset: signups that need it answer 503",
    )
    balance_responsible_gln: str = Field(
        default="5799994000022", description="our balance responsible party, named in requests"
    )
    # Effective-date policy (Danish business days; see domain/dates.py).
    switch_notice_business_days: int = Field(
        default=15, ge=0, description="a switch's earliest date, business days ahead"
    )
    switch_max_days_ahead: int = Field(
        default=365, description="a switch's latest date, days ahead"
    )
    move_in_business_days_back: int = Field(
        default=5, ge=0, description="a move-in's earliest date, business days back"
    )
    move_in_max_days_ahead: int = Field(
        default=60, description="a move-in's latest date, days ahead"
    )
    end_min_days_ahead: int = Field(default=1, description="an ending's earliest date, days ahead")
    end_max_days_ahead: int = Field(default=365, description="an ending's latest date, days ahead")
    closed_eves: bool = Field(default=True, description="24 and 31 December are not business days")
    send_delay_s: float = Field(
        default=0.0,
        ge=0,
        description="hold before a new process is sent to DataHub (cancelled in the hold: "
        "DataHub never hears of it)",
    )
    scheduler_interval_s: float = Field(
        default=0.5, gt=0, description="how often due requests and endings are looked for"
    )
    billing_frequency: Literal["monthly", "quarterly"] = Field(
        default="quarterly", description="a new contract's billing: monthly or quarterly"
    )
    payment_model: Literal["aconto", "arrears"] = Field(
        default="aconto", description="a new contract's payment: aconto or arrears"
    )
    import_max_rows: int = Field(
        default=100_000, ge=1, description="rows a portfolio import file may have (413 above)"
    )
    import_max_bytes: int = Field(
        default=50_000_000, ge=1, description="bytes a portfolio import file may have (413 above)"
    )
    default_products: bool = Field(
        default=True, description="create the default product catalogue when there is none"
    )

    @property
    def date_rules(self) -> DateRules:
        return DateRules(
            switch_notice_business_days=self.switch_notice_business_days,
            switch_max_days_ahead=self.switch_max_days_ahead,
            move_in_business_days_back=self.move_in_business_days_back,
            move_in_max_days_ahead=self.move_in_max_days_ahead,
            end_min_days_ahead=self.end_min_days_ahead,
            end_max_days_ahead=self.end_max_days_ahead,
            closed_eves=self.closed_eves,
        )


# The running portfolio service: its code reads these settings typed from ``service.settings``.
PortfolioService = Service[PortfolioSettings]
