"""Settings of the notifications service."""

from __future__ import annotations

from email.utils import parseaddr

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_NOTIFICATIONS_", extra="ignore")

    port: int = 8108
    smtp_url: str | None = Field(
        default=None,
        description="the mail server notifications are e-mailed through: smtp://host:port "
        "(STARTTLS when smtp_starttls) or smtps://host:port (TLS from the first byte); unset: "
        "e-mails wait as pending until it is set",
    )
    smtp_from: str = Field(
        default="Wattline Kundeservice <kundeservice@wattline.example>",
        description="the From of every notification: an address or 'Name <address>'",
    )
    smtp_starttls: bool = Field(
        default=False, description="upgrade an smtp:// connection with STARTTLS first"
    )
    smtp_username: str | None = Field(
        default=None, description="log in to the mail server as this user (unset: no login)"
    )
    smtp_password: SecretStr | None = Field(default=None, description="... with this password")
    smtp_timeout_s: float = Field(
        default=30.0, gt=0, le=300, description="seconds the mail server may take to answer"
    )
    retry_first_s: float = Field(
        default=30.0, gt=0, le=86400, description="wait after a delivery's first failure"
    )
    retry_max_s: float = Field(
        default=3600.0, gt=0, le=7 * 86400, description="the longest wait between attempts"
    )
    max_attempts: int = Field(
        default=8, ge=1, le=100, description="attempts before a delivery is failed for good"
    )
    jobs: bool = Field(default=True, description="run the sender (off: deliveries wait)")
    job_interval_s: float = Field(
        default=1.0, gt=0, le=3600, description="seconds between looks for due deliveries"
    )

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("smtp://", "smtps://")):
            raise ValueError("an smtp:// or smtps:// URL")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _smtp_from(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1]:
            raise ValueError("an e-mail address or 'Name <address>'")
        return value


# The running notifications service: its code reads these settings typed.
NotificationsService = Service[NotificationsSettings]
