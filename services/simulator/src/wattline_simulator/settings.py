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
