"""Settings of the DataHub simulator."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service


class SimulatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_SIMULATOR_", extra="ignore")

    port: int = 8106
    client_id: str = Field(
        default="wattline", description="the one client its token endpoint accepts"
    )
    client_secret: str = Field(  # the simulator's own test credential
        default="dev-secret",
        description="that client's secret",
    )
    token_ttl_s: int = Field(default=3600, description="lifetime of an issued token")
    # Tokens are signed with this key; a new key (each start by default) revokes them all.
    token_key: str = Field(
        default_factory=lambda: secrets.token_hex(32),
        description="key signing tokens; a new key revokes every token issued",
    )
    start: datetime = Field(
        default=datetime(2025, 1, 1, tzinfo=UTC), description="the simulated clock's start"
    )

    # The market the simulator plays: our supplier (the only client of the B2B API), its
    # balance responsible party and the grid company owning every seeded grid area.
    supplier_gln: str = Field(default="5799994000015", description="our supplier's GLN")
    balance_responsible_gln: str = Field(
        default="5799994000022", description="its balance responsible party's GLN"
    )
    grid_operator_gln: str = Field(
        default="5799994000039", description="the grid company owning every seeded grid area"
    )
    series_per_message: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="RSM-012 series bundled in one queued document by the daily generation",
    )
    served_log_retention_hours: int = Field(
        default=168,
        ge=0,
        description="hours an entry of the served log (GET /sim/served: every peek answered, "
        "an empty one included) is kept; 0 keeps them forever. Nothing depends on old "
        "entries: tests and benchmarks read the ones after their own start",
    )
    served_log_prune_interval_s: float = Field(
        default=600.0, gt=0, description="how often the served log is pruned"
    )
    # RSM-001 rules (BRS-001 / BRS-009): how far ahead a change of supplier / move-in may be
    # dated, and how many business days back a move-in may be dated.
    change_of_supplier_min_days_ahead: int = Field(
        default=1, description="BRS-001: earliest change of supplier, days ahead"
    )
    change_of_supplier_max_days_ahead: int = Field(
        default=365, description="BRS-001: latest change of supplier, days ahead"
    )
    move_in_max_days_ahead: int = Field(
        default=60, description="BRS-009: latest move-in, days ahead"
    )
    move_in_max_business_days_back: int = Field(
        default=5, description="BRS-009: earliest move-in, business days back"
    )


# The running simulator service: its code reads these settings typed from ``service.settings``.
SimulatorService = Service[SimulatorSettings]
