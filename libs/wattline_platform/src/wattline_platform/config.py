"""Settings shared by every process.

Infrastructure locations use the plain names a deployer expects (``DATABASE_URL``,
``KAFKA_BOOTSTRAP``); each service adds its own class with the prefix ``WATTLINE_<SERVICE>_``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Where the database and the broker are, and how to talk to them."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:54329/wattline",
        description="Admin/default DSN; a service may override it with WATTLINE_<SVC>_DATABASE_URL",
    )
    kafka_bootstrap: str = "127.0.0.1:19092"
    # Tansu refuses InitProducerId: idempotence and transactions stay off unless a real
    # Kafka cluster is configured. Correctness never depends on them (outbox + inbox).
    kafka_idempotence: bool = False
    pii_key: SecretStr | None = Field(
        default=None, description="Fernet key sealing CPR/CVR numbers in events and tables"
    )
    log_level: str = "INFO"
    log_format: str = Field(default="json", description="json or console")
    clock_url: str | None = Field(
        default=None,
        description=(
            "Follow this clock (e.g. the DataHub simulator's /sim/clock) for business time "
            "instead of the system clock; unset in production"
        ),
    )


class ServiceSettings(BaseSettings):
    """Per-service settings; subclasses set ``env_prefix`` to ``WATTLINE_<SERVICE>_``."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8100
    database_url: str | None = None
    db_pool_min: int = 1
    db_pool_max: int = 10
    relay_batch_size: int = 1000
    relay_poll_interval_s: float = 0.05
    outbox_retention_days: int = 30
    consumer_batch_size: int = 500
    consumer_max_retries: int = 3
    epoch_check_interval_s: float = 5.0
