"""Settings of the datahub service.

DataHub's address and our credentials have no defaults: a deployment names them
(``wattline up`` points them at the simulator; see wattline_platform.endpoints) and
:func:`wattline_datahub.bootstrap.build` refuses to start without them.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings, require
from wattline_platform.service import Service


class DatahubSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_DATAHUB_", extra="ignore")

    port: int = 8102
    url: str | None = Field(
        default=None, description="DataHub 3's B2B API root (peek, dequeue, incomingMessages)"
    )
    token_url: str | None = Field(
        default=None,
        description="OAuth2 token endpoint (DataHub 3: Microsoft Entra ID's "
        "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token)",
    )
    client_id: str | None = Field(default=None, description="our client id at the token endpoint")
    client_secret: SecretStr | None = Field(
        default=None, description="our client secret at the token endpoint"
    )
    scope: str | None = Field(
        default=None, description="OAuth2 scope of the token request; not sent when empty"
    )
    supplier_gln: str = Field(default="5799994000015", description="our GLN (role DDQ)")
    categories: list[str] = Field(
        default=["MeasureData", "Aggregations", "MasterData", "Wholesale"],
        description="DataHub message queues polled (a JSON list)",
    )
    concurrency: int = Field(default=4, ge=1, description="categories polled at the same time")
    idle_poll_s: float = Field(default=1.0, description="wait after an empty queue")
    parse_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="received messages this replica parses and commits at the same time (every "
        "replica parses; a category's messages are still committed in DataHub's order)",
    )
    parse_processes: int = Field(
        default=0,
        ge=0,
        le=64,
        description="processes this replica parses in; 0: a thread of the service's own "
        "process (one core per replica, the GIL)",
    )
    parse_idle_s: float = Field(
        default=0.2, gt=0, description="wait of a parse worker that found nothing received"
    )
    max_backoff_s: float = Field(
        default=30.0, description="longest wait after DataHub failed or asked us to back off"
    )

    raw_compress_after_days: int = Field(
        default=30,
        ge=0,
        description="days a raw inbound DataHub message is kept as sent before it is kept "
        "lzma-compressed (still readable: dead-letter retry, support tools)",
    )
    raw_keep_days: int = Field(
        default=2192,
        ge=1,
        description="days a raw inbound DataHub message is kept before it is deleted; the "
        "bookkeeping law keeps material 5 years from the end of its financial year, and 6 "
        "years (2192 days) covers a message from any day of that year. Dead letters are kept "
        "until retried",
    )
    retention_batch: int = Field(
        default=500, ge=1, le=10_000, description="raw messages compressed (and deleted) a pass"
    )
    retention_interval_s: float = Field(
        default=600.0, gt=0, description="wait between retention passes that found nothing"
    )

    @model_validator(mode="after")
    def _keep_after_compress(self) -> DatahubSettings:
        if self.raw_keep_days < self.raw_compress_after_days:
            raise ValueError("raw_keep_days must not be shorter than raw_compress_after_days")
        return self

    def require_datahub(self) -> None:
        """Raise MissingSettings (one line naming the variables) unless DataHub is configured."""
        require(self, "datahub", "url", "token_url", "client_id", "client_secret")


# The running datahub service: its code reads these settings typed from ``service.settings``.
DatahubService = Service[DatahubSettings]
