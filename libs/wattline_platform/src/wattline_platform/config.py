"""Settings shared by every process.

Infrastructure locations use the plain names a deployer expects (``DATABASE_URL``,
``KAFKA_BOOTSTRAP``); each service adds its own class with the prefix ``WATTLINE_<SERVICE>_``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
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
        description="Admin/default PostgreSQL DSN: `wattline migrate` creates one schema per "
        "service in it, and a service uses it unless WATTLINE_<SERVICE>_DATABASE_URL is set "
        "(compose: postgresql://postgres:<POSTGRES_PASSWORD>@postgres:5432/wattline)",
    )
    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092",
        description="Kafka bootstrap servers (host:port[,host:port...]); topics are never "
        "auto-created: `wattline topics` creates those of deploy/topics.yaml and their .dlq twins",
    )
    # Tansu refuses InitProducerId: idempotence and transactions stay off unless a real
    # Kafka cluster is configured. Correctness never depends on them (outbox + inbox).
    kafka_idempotence: bool = Field(
        default=False,
        description="idempotent producer: needs a real Kafka cluster (the embedded dev broker "
        "refuses it); correctness never depends on it, outbox + inbox deduplicate anyway",
    )
    pii_key: SecretStr | None = Field(
        default=None,
        description="Fernet key sealing CPR/CVR numbers in events and tables; every service "
        "handling customers needs the same key, and losing it makes sealed data unreadable. "
        'Make one: python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"',
    )
    identity_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="shared key of the gateway's signed identity (wattline_platform.identity): "
        "the gateway signs every forwarded request with it and every service verifies it; "
        "unset, a service refuses every /api/* request (401). The same secret in every "
        "process, at least 32 characters: "
        'python -c "import secrets; print(secrets.token_urlsafe(32))"',
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: str = Field(
        default="json",
        description="`json` (one object per line, for log shippers) or `console` (for people)",
    )
    clock_url: str | None = Field(
        default=None,
        description=(
            "follow this clock for business time (today, deadlines) instead of the system "
            'clock: a URL answering {"now": "<ISO datetime>"}, e.g. the DataHub simulator\'s '
            "GET /sim/clock; unset in production"
        ),
    )

    @field_validator("identity_key", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # `IDENTITY_KEY=` (an empty compose substitution) means unset, not a 0-character key.
        return None if value == "" else value


class ServiceSettings(BaseSettings):
    """Per-service settings; subclasses set ``env_prefix`` to ``WATTLINE_<SERVICE>_``."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = Field(default="127.0.0.1", description="interface to bind (0.0.0.0 in containers)")
    port: int = Field(
        default=8100, description="HTTP port of the API, /health/live, /health/ready and /metrics"
    )
    database_url: str | None = Field(
        default=None,
        description="DSN for this service only (e.g. a role limited to its own schema: "
        "postgresql://portfolio:secret@postgres:5432/wattline); unset: DATABASE_URL",
    )
    db_pool_min: int = Field(default=1, description="database connections kept open")
    db_pool_max: int = Field(default=10, description="database connections at most")
    relay_batch_size: int = Field(
        default=1000, description="outbox rows the relay publishes per round"
    )
    relay_poll_interval_s: float = Field(
        default=0.05, description="the relay's wait when the outbox is empty"
    )
    outbox_retention_days: int = Field(
        default=30, description="days published outbox rows are kept (for replays)"
    )
    inbox_retention_days: int = Field(
        default=45,
        ge=0,
        description="days a consumed event's id is kept in the inbox to refuse its redelivery; "
        "0 keeps them forever. At least the longest topic retention (deploy/topics.yaml, "
        "7 days) + the outbox retention (the replay window) + 1 day, else the service refuses "
        "to start (the rule: wattline_platform.inbox)",
    )
    inbox_prune_batch_size: int = Field(
        default=10_000, ge=1, description="inbox rows deleted per transaction when pruning"
    )
    inbox_prune_interval_s: float = Field(
        default=3600.0, gt=0, description="how often one replica prunes the inbox"
    )
    consumer_batch_size: int = Field(
        default=500, description="events a consumer takes per transaction at most"
    )
    consumer_max_retries: int = Field(
        default=3, description="attempts before an event goes to its topic's .dlq"
    )
    epoch_check_interval_s: float = Field(
        default=5.0,
        description="how often the broker's epoch is checked (a reset broker restarts the service)",
    )
