"""Sending a bill to its payer: the :class:`Channel` port and its SMTP implementation.

A channel sends one :class:`OutgoingBill` and returns the id of the message it sent, or
raises :class:`DeliveryFailed` with a short reason. That reason is stored with the delivery
and logged, so it never holds the recipient's address or name: what a mail server answers
is kept only with every e-mail address and the recipient's name cut out of it.

:class:`SmtpChannel` talks SMTP with the standard library (``smtplib`` in a worker thread,
one connection per message): plain, STARTTLS, or TLS from the first byte (``smtps://``),
with a login when a user is set. The message is ``text/plain`` in Danish with the PDF
attached; its Message-ID, made here, is the id returned.

A second channel, to be written against the provider's API and not written here: **e-Boks /
Digital Post**. A supplier is not obliged to use Digital Post (only the public sector is),
and a citizen receives private senders' mail in e-Boks only by choice
(shared/reference/payments.md §5); an ``EboksChannel`` would be the same protocol:

* constructed in ``bootstrap`` from its own settings (the provider's API root, our sender
  id and material id, a client certificate or OAuth2 credentials; its URL an endpoint of
  ``wattline_platform.endpoints``), kept as another channel beside ``Invoicing.email``;
* ``send(bill)`` with ``bill.recipient_address`` the payer's CPR or CVR number, opened from
  the sealed party at send time like the e-mail address and never logged, ``subject`` as
  the document's title in the recipient's mailbox, ``body`` unused or as the provider's
  short notice text, and the PDF as the document itself (``pdf_name`` its file name);
* returns the provider's id of the delivered document (its receipt), the ``message_id``
  kept with the delivery;
* raises :class:`DeliveryFailed` on a failure worth retrying (the API down, throttled,
  5xx), and ``DeliveryFailed(..., permanent=True)`` when the provider refuses the document;
  a payer who has no mailbox or does not accept mail from us is told apart (a ``NoMailbox``
  error the delivery handler records as ``no_address``, like a payer without an e-mail);
* its rows are the ``digital_post`` channel of the ``delivery`` table, created at issue
  for the payers who chose it (``domain.delivery.CHANNELS``).
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Protocol
from urllib.parse import urlsplit

from wattline_platform import smtp


@dataclass(frozen=True)
class OutgoingBill:
    """One document on its way to its payer."""

    recipient_address: str  # e-mail: the payer's address (opened from the sealed party)
    recipient_name: str
    subject: str
    body: str  # short, Danish, plain text
    pdf: bytes
    pdf_name: str  # e.g. faktura-2025-00001.pdf


class DeliveryFailed(Exception):
    """The bill was not delivered. *reason* is short and holds no personal data;
    *permanent*: trying again will not help (the delivery fails at once)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(Protocol):
    """A way to deliver bills (e-mail; e-Boks / Digital Post, see the module's docstring)."""

    async def send(self, bill: OutgoingBill) -> str:
        """Deliver *bill*; the id of the message sent. Raises :class:`DeliveryFailed`."""
        ...


# Loose on purpose: the mail server judges an address; this only keeps out what cannot be one
# (and what would break a header: spaces, brackets, commas).
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")
_ANY_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
_TLS_MODES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class SmtpChannel:
    """E-mail through a mail server (see the module's docstring)."""

    host: str
    port: int
    sender: str  # the From address
    sender_name: str
    tls: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.tls not in _TLS_MODES:
            raise ValueError(f"tls is one of {_TLS_MODES}, not {self.tls!r}")
        if not _ADDRESS.match(self.sender):
            raise ValueError(f"not an e-mail address to send from: {self.sender!r}")

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        sender: str,
        default_sender_name: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
    ) -> SmtpChannel:
        """``smtp://host[:port]`` (25; STARTTLS when *starttls*) or ``smtps://host[:port]``
        (465); *sender* an address or ``Name <address>``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an smtp:// or smtps:// URL: {url!r}")
        name, address = parseaddr(sender)
        tls = "tls" if parts.scheme == "smtps" else ("starttls" if starttls else "none")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls == "tls" else 25),
            sender=address,
            sender_name=name or default_sender_name,
            tls=tls,
            username=username or None,
            password=password,
            timeout_s=timeout_s,
        )

    def message(self, bill: OutgoingBill) -> EmailMessage:
        """The e-mail of *bill*: its text, the PDF attached, a new Message-ID."""
        if not _ADDRESS.match(bill.recipient_address):
            raise DeliveryFailed("the payer's e-mail address is not valid", permanent=True)
        message = EmailMessage()
        message["From"] = Address(_one_line(self.sender_name), addr_spec=self.sender)
        message["To"] = Address(_one_line(bill.recipient_name), addr_spec=bill.recipient_address)
        message["Subject"] = _one_line(bill.subject)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        message.set_content(bill.body)
        message.add_attachment(
            bill.pdf, maintype="application", subtype="pdf", filename=bill.pdf_name
        )
        return message

    async def send(self, bill: OutgoingBill) -> str:
        message = self.message(bill)
        try:
            await asyncio.to_thread(self._deliver, message)
        except (smtplib.SMTPException, OSError) as exc:
            reason, permanent = _reason(exc)
            raise DeliveryFailed(_scrub(reason, bill), permanent=permanent) from None
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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _said(what: str, code: int, text: bytes | str) -> str:
    said = text.decode(errors="replace") if isinstance(text, bytes) else text
    return f"{what}: {code} {_one_line(said)}"


def _reason(exc: smtplib.SMTPException | OSError) -> tuple[str, bool]:
    """What went wrong, and whether it is the recipient's address that is refused for good.

    Only an addressing failure (RFC 3463 status 5.1.x: no such mailbox, no such domain) is
    permanent: any other refusal, even a 5xx, may be our own configuration (relaying denied,
    a wrong login), mended without touching the bills, so it is retried like an outage.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        said = _said("recipient refused", code, text)
        status = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return said, 500 <= code < 600 and status.lstrip().startswith("5.1.")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _said("login refused", exc.smtp_code, exc.smtp_error), False
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _said("sender refused", exc.smtp_code, exc.smtp_error), False
    if isinstance(exc, smtplib.SMTPDataError):
        return _said("message refused", exc.smtp_code, exc.smtp_error), False
    if isinstance(exc, smtplib.SMTPResponseException):
        return _said("refused", exc.smtp_code, exc.smtp_error), False
    if isinstance(exc, smtplib.SMTPException):
        return f"{type(exc).__name__}: {_one_line(str(exc))}", False
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or type(exc).__name__}", False
    return f"{type(exc).__name__}{f' ({exc.strerror})' if exc.strerror else ''}", False


def _scrub(reason: str, bill: OutgoingBill) -> str:
    """*reason* without any e-mail address or the recipient's name, at most 200 characters."""
    text = _ANY_ADDRESS.sub("<address>", reason)
    for part in {bill.recipient_name, *bill.recipient_name.split()}:
        if len(part) >= 3:
            text = re.sub(re.escape(part), "<name>", text, flags=re.IGNORECASE)
    return text[:200]
