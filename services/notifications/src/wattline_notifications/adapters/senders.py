"""The ports a message leaves through, :class:`EmailSender` and :class:`SmsSender`, and their
local adapters: :class:`SmtpEmailSender` (any SMTP server: ``wattline up``'s aiosmtpd mail
server, compose's mail catcher, a relay) and :class:`SmsLog` (a table the operator reads,
until an SMS gateway's adapter is written against the same port).

A sender returns the provider's id of what it sent (the Message-ID, the log row) or raises
:class:`DeliveryFailed` with a short reason that is stored and logged, so it never holds the
recipient's address: every e-mail address in a server's answer is cut out.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Protocol
from urllib.parse import urlsplit

from wattline_platform import smtp
from wattline_platform.db import Database
from wattline_platform.pii import PiiCipher


@dataclass(frozen=True)
class OutgoingEmail:
    to_address: str
    to_name: str
    subject: str
    body: str


@dataclass(frozen=True)
class OutgoingSms:
    delivery_id: str
    phone: str  # in memory only: a log or table keeps it sealed
    body: str


class DeliveryFailed(Exception):
    """Not delivered. *reason* is short and personal-data free; *permanent*: do not retry."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class EmailSender(Protocol):
    async def send(self, email: OutgoingEmail) -> str:
        """Deliver *email*; the Message-ID sent. Raises :class:`DeliveryFailed`."""
        ...


class SmsSender(Protocol):
    async def send(self, sms: OutgoingSms) -> str:
        """Deliver *sms*; the provider's id. Raises :class:`DeliveryFailed`."""
        ...


_ANY_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


@dataclass(frozen=True)
class SmtpEmailSender:
    """Plain-text e-mail over SMTP (``smtplib`` in a thread, one connection per message)."""

    host: str
    port: int
    sender: str
    sender_name: str
    tls: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
    ) -> SmtpEmailSender:
        """``smtp://host[:port]`` (25) or ``smtps://host[:port]`` (465); *sender* an address
        or ``Name <address>``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an smtp:// or smtps:// URL: {url!r}")
        name, address = parseaddr(sender)
        tls = "tls" if parts.scheme == "smtps" else ("starttls" if starttls else "none")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls == "tls" else 25),
            sender=address,
            sender_name=name or "Wattline",
            tls=tls,
            username=username,
            password=password,
            timeout_s=timeout_s,
        )

    async def send(self, email: OutgoingEmail) -> str:
        if "@" not in email.to_address or any(c in email.to_address for c in " <>,\r\n"):
            raise DeliveryFailed("the e-mail address is not valid", permanent=True)
        message = EmailMessage()
        message["From"] = Address(self.sender_name, addr_spec=self.sender)
        message["To"] = Address(" ".join(email.to_name.split()), addr_spec=email.to_address)
        message["Subject"] = " ".join(email.subject.split())
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        message.set_content(email.body)
        try:
            await asyncio.to_thread(self._deliver, message)
        except smtplib.SMTPResponseException as exc:
            reason = _scrub(f"refused: {exc.smtp_code} {_text(exc.smtp_error)}")
            raise DeliveryFailed(reason) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, said = next(iter(exc.recipients.values()), (0, b""))
            text = _text(said)
            # Only an addressing failure (RFC 3463 5.1.x) is the recipient's for good.
            permanent = 500 <= code < 600 and text.lstrip().startswith("5.1.")
            reason = _scrub(f"recipient refused: {code} {text}")
            raise DeliveryFailed(reason, permanent=permanent) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(_scrub(f"{type(exc).__name__}: {exc}")) from None
        return str(message["Message-ID"])

    def _deliver(self, message: EmailMessage) -> None:
        smtp.deliver(
            message,
            host=self.host,
            port=self.port,
            tls=self.tls,
            username=self.username,
            password=self.password,
            timeout_s=self.timeout_s,
        )


def _text(said: bytes | str) -> str:
    return said.decode(errors="replace") if isinstance(said, bytes) else str(said)


def _scrub(reason: str) -> str:
    return _ANY_ADDRESS.sub("<address>", " ".join(reason.split()))[:200]


@dataclass(frozen=True)
class SmsLog:
    """The local SMS adapter: each text is a row of ``sms_message`` (phone sealed), read by the
    operator through ``GET /api/notifications``. Idempotent per delivery: a retry after a crash
    between the log and the delivery's update finds its row again."""

    db: Database
    cipher: PiiCipher | None

    async def send(self, sms: OutgoingSms) -> str:
        if self.cipher is None:
            raise DeliveryFailed("no PII key: the phone number cannot be kept sealed")
        sms_id = await self.db.fetchval(
            """INSERT INTO sms_message (delivery_id, phone_sealed, body) VALUES ($1, $2, $3)
               ON CONFLICT (delivery_id) DO UPDATE SET body = EXCLUDED.body
               RETURNING sms_id""",
            sms.delivery_id,
            self.cipher.seal(sms.phone),
            sms.body,
        )
        return f"sms-log-{sms_id}"
