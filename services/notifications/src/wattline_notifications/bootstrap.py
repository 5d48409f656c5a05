"""Composition root of the notifications service."""

from __future__ import annotations

from pathlib import Path

from wattline_platform.logging import get_logger
from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service, ServiceSpec

from wattline_notifications import api, consumers
from wattline_notifications.adapters import templates
from wattline_notifications.adapters.senders import SmsLog, SmtpEmailSender
from wattline_notifications.handlers import Notifications
from wattline_notifications.jobs.deliver import deliver_job
from wattline_notifications.settings import NotificationsService, NotificationsSettings

SPEC = ServiceSpec("notifications", Path(__file__).resolve().parents[2] / "migrations")

__all__ = ["SPEC", "NotificationsSettings", "build", "email_sender", "wire"]

log = get_logger(__name__)


def email_sender(settings: NotificationsSettings) -> SmtpEmailSender | None:
    """The mail server of ``smtp_url`` (None: unset, e-mails wait as pending)."""
    if settings.smtp_url is None:
        return None
    password = settings.smtp_password
    return SmtpEmailSender.from_url(
        settings.smtp_url,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=password.get_secret_value() if password else None,
        timeout_s=settings.smtp_timeout_s,
    )


def wire(
    settings: NotificationsSettings | None = None, cipher: PiiCipher | None = None
) -> Notifications:
    """The notifications service and the context its handlers run in."""
    settings = settings or NotificationsSettings()
    service = Service(SPEC, settings)
    if cipher is None and service.platform.pii_key is not None:
        cipher = PiiCipher(service.platform.pii_key.get_secret_value())
    n = Notifications(
        service,
        settings,
        cipher,
        templates.load(),
        email_sender(settings),
        SmsLog(service.database, cipher),
    )
    service.route_handlers.extend(api.routes(n))
    consumers.register(n)
    if settings.jobs:
        service.background.append(lambda: deliver_job(n))
    if n.email is None or cipher is None:
        reason = "no smtp_url" if n.email is None else "no PII key"

        async def say_email_off() -> None:  # at start, not at build (`wattline openapi` builds)
            log.warning("notifications_email_off", reason=reason)

        service.background.append(say_email_off)
    return n


def build(settings: NotificationsSettings | None = None) -> NotificationsService:
    """Wire the notifications service: API, consumers, the sender."""
    return wire(settings).service
