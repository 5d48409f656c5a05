"""Settings of the datahub service."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings


class DatahubSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_DATAHUB_", extra="ignore")

    port: int = 8102
    url: str = Field(default="http://127.0.0.1:8106", description="DataHub's B2B base URL")
    supplier_gln: str = Field(default="5799994000015", description="our GLN (role DDQ)")
    client_id: str = "wattline"
    client_secret: str = "dev-secret"  # noqa: S105 - the local simulator's credential
    categories: list[str] = ["MeasureData", "Aggregations", "MasterData", "Wholesale"]
    concurrency: int = Field(default=4, ge=1, description="categories polled at the same time")
    idle_poll_s: float = Field(default=1.0, description="wait after an empty queue")
    max_backoff_s: float = 30.0
