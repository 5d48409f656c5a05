"""Notifications use cases: one module each (events in, deliveries out, preferences)."""

from __future__ import annotations

from dataclasses import dataclass

from wattline_platform.pii import PiiCipher

from wattline_notifications.adapters.senders import EmailSender, SmsSender
from wattline_notifications.domain.messages import Backoff, Channel, Kind, Template
from wattline_notifications.settings import NotificationsService, NotificationsSettings


@dataclass
class Notifications:
    """What every use case works with: the service, its settings, the key that opens the
    sealed contacts, the templates and the senders (``email`` None: no mail server set)."""

    service: NotificationsService
    settings: NotificationsSettings
    cipher: PiiCipher | None
    templates: dict[tuple[Kind, Channel], Template]
    email: EmailSender | None
    sms: SmsSender

    @property
    def backoff(self) -> Backoff:
        s = self.settings
        return Backoff(s.retry_first_s, s.retry_max_s, s.max_attempts)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels deliveries can go through now (no mail server: e-mails wait)."""
        return ("email", "sms") if self.email is not None else ("sms",)
