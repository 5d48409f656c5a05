"""Settings of the DataHub simulator."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings


class SimulatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_SIMULATOR_", extra="ignore")

    port: int = 8106
    client_id: str = "wattline"
    client_secret: str = "dev-secret"  # noqa: S105 - the simulator's own test credential
    token_ttl_s: int = 3600
    # Tokens are signed with this key; a new key (each start by default) revokes them all.
    token_key: str = Field(default_factory=lambda: secrets.token_hex(32))
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC)

    # The market the simulator plays: our supplier (the only client of the B2B API), its
    # balance responsible party and the grid company owning every seeded grid area.
    supplier_gln: str = "5799994000015"
    balance_responsible_gln: str = "5799994000022"
    grid_operator_gln: str = "5799994000039"
    # RSM-012 series bundled in one queued document by the daily generation.
    series_per_message: int = Field(default=50, ge=1, le=10_000)
    # RSM-001 rules (BRS-001 / BRS-009): how far ahead a change of supplier / move-in may be
    # dated, and how many business days back a move-in may be dated.
    change_of_supplier_min_days_ahead: int = 1
    change_of_supplier_max_days_ahead: int = 365
    move_in_max_days_ahead: int = 60
    move_in_max_business_days_back: int = 5
