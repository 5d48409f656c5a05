"""Settings shared by every process.

Infrastructure locations use the plain names a deployer expects (``DATABASE_URL``,
``KAFKA_BOOTSTRAP``); each service adds its own class with the prefix ``WATTLINE_<SERVICE>_``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MissingSettings(SystemExit):
    """A service was started without settings it cannot work without.

    A ``SystemExit`` so that ``python -m wattline_<service>`` ends with this one line on
    stderr and exit code 1 instead of a traceback; callers catch it by name in tests.
    """

    def __init__(self, service: str, env_names: list[str]) -> None:
        self.env_names = env_names
        super().__init__(f"{service}: not configured, set {', '.join(env_names)}")


def require(settings: BaseSettings, service: str, *fields: str) -> None:
    """Raise :class:`MissingSettings` naming the environment variable of every empty *field*."""
    prefix = settings.model_config.get("env_prefix") or ""
    missing = [f"{prefix}{name}".upper() for name in fields if _empty(getattr(settings, name))]
    if missing:
        raise MissingSettings(service, missing)


def _empty(value: object) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is None or value == "" or value == {} or value == []


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
