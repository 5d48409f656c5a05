"""Webhooks for partners who cannot consume Kafka: which events a subscription gets, which
URLs it may name, what the request body is, and when a failed delivery is tried again.

Signing follows the Standard Webhooks specification (https://www.standardwebhooks.com):
a secret is ``whsec_`` + base64 of random bytes, shown to the partner once; each request
carries ``webhook-id`` (the event id, the same on every retry, so a receiver deduplicates on
it), ``webhook-timestamp`` and ``webhook-signature``.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from wattline_contracts.registry import EVENTS

# What a partner may subscribe to: every event invoicing publishes, read from the registry so
# that a new invoicing event is offered without a second list to keep.
EVENT_TYPES: tuple[str, ...] = tuple(
    sorted({e.TYPE for e in EVENTS if e.TYPE.startswith("invoicing.")})
)

MAX_URL_LENGTH = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
# The spec asks for 24 to 64 bytes; 32 is HMAC-SHA256's own key size.
SECRET_BYTES = 32
MAX_ERROR_LENGTH = 200


class InvalidWebhookUrl(ValueError):
    """A URL we would not POST to: not http(s), no host, credentials in it, too long."""


class UnknownEventType(ValueError):
    """An event type invoicing does not publish (or no type at all)."""


def check_url(url: str, *, allow_private: bool = False) -> str:
    """*url* when a webhook may be sent to it, else :class:`InvalidWebhookUrl`.

    Only http and https with a host: other schemes (file:, gopher:, ...) would make the
    sender reach things that are not a partner's web server. User and password in the URL
    are refused because subscriptions are listed to operators in plain text; a partner who
    needs authentication verifies the signature instead. No fragment: it is never sent.
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"a webhook URL has at most {MAX_URL_LENGTH} characters")
    if url != url.strip() or any(c.isspace() or ord(c) < 0x20 for c in url):
        raise InvalidWebhookUrl("a webhook URL has no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError as exc:
        raise InvalidWebhookUrl(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidWebhookUrl("a webhook URL is http:// or https://")
    if not parts.hostname:
        raise InvalidWebhookUrl("a webhook URL names a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("a webhook URL carries no user or password (verify signatures)")
    if parts.fragment:
        raise InvalidWebhookUrl("a webhook URL has no #fragment")
    if port == 0:
        raise InvalidWebhookUrl("port 0 is not a port to send to")
    if not allow_private and not _maybe_public(parts.hostname):
        raise InvalidWebhookUrl("a webhook goes to a public internet address")
    return url


def _maybe_public(host: str) -> bool:
    """False for a host that is certainly not public: localhost, a literal private,
    loopback or link-local address, a name without a dot (a container or service name).
    Names are resolved again at every send (``adapters.webhooks``)."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host


def check_event_types(
    requested: Iterable[str], known: Collection[str] = EVENT_TYPES
) -> tuple[str, ...]:
    """The distinct *requested* types, sorted, when all are *known* and there is at least one;
    else :class:`UnknownEventType` naming the unknown ones."""
    chosen = sorted(set(requested))
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise UnknownEventType(f"unknown event types {unknown}; known: {sorted(known)}")
    if not chosen:
        raise UnknownEventType(f"name at least one event type of {sorted(known)}")
    return tuple(chosen)


def wants(event_types: Collection[str], start_after: int, outbox_id: int, event_type: str) -> bool:
    """Whether a subscription to *event_types* created at outbox position *start_after* gets
    the event at *outbox_id*.

    The rule: a subscription gets the events whose outbox id is greater than the largest
    outbox id when it was created. It never receives history (a partner who needs that asks
    the ERP feed), and the position is a number both the fan-out and the subscriber can
    reason about, unlike a moment, which clocks and in-flight transactions blur.
    """
    return outbox_id > start_after and event_type in event_types


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of :data:`SECRET_BYTES` random bytes, the
    format ``standardwebhooks.Webhook`` reads."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def body(envelope: Mapping[str, Any]) -> str:
    """The JSON a receiver gets for an event *envelope* (as the outbox stores it)::

        {"type": "invoicing.invoice.issued", "version": 1,
         "event_id": "<uuid, also the webhook-id header>",
         "occurred_at": "2025-04-07T08:00:00Z", "data": {<the event's own fields>}}

    The event's fields go under ``data`` (the Standard Webhooks payload shape) rather than
    next to ``type``, so that no field of a future event can shadow the envelope's. Compact
    and built once, at fan-out: the same bytes are signed and sent on every attempt.
    """
    return json.dumps(
        {
            "type": envelope["type"],
            "version": envelope["version"],
            "event_id": str(envelope["event_id"]),
            "occurred_at": envelope["occurred_at"],
            "data": envelope["payload"],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def succeeded(status: int | None) -> bool:
    """A delivery succeeded when the receiver answered 2xx; anything else (3xx included: the
    sender follows no redirects, a moved endpoint must be re-subscribed) is tried again."""
    return status is not None and 200 <= status < 300


def short_error(text: str) -> str:
    """*text* on one line and at most :data:`MAX_ERROR_LENGTH` characters, for the delivery
    log (a receiver's error page can be megabytes)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_ERROR_LENGTH else flat[: MAX_ERROR_LENGTH - 1] + "…"


@dataclass(frozen=True)
class RetrySchedule:
    """When to try a failed delivery again: ``first``, then ``factor`` times longer each
    time, never longer than ``cap``, and no more than ``max_attempts`` attempts in all.

    The default waits 5 s, 25 s, ~2 min, ~10 min, ~52 min, ~4.3 h, then 6 h three times:
    10 attempts over about 29 hours, so a partner's night-long outage is bridged and a
    dead endpoint stops costing us after a day. ``RetrySchedule(first=timedelta(0))``
    retries at once (tests).
    """

    first: timedelta = timedelta(seconds=5)
    factor: float = 5.0
    cap: timedelta = timedelta(hours=6)
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.first < timedelta(0) or self.cap < self.first or self.factor < 1:
            raise ValueError("need 0 <= first <= cap and factor >= 1")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the *attempts*-th attempt failed (1-based)."""
        if attempts < 1:
            raise ValueError("attempts are counted from 1")
        seconds = self.first.total_seconds() * self.factor ** min(attempts - 1, 64)
        return min(timedelta(seconds=seconds), self.cap) if seconds < 1e9 else self.cap

    def describe(self) -> str:
        """The waits between attempts in words: ``5 s, 25 s, 2 min, ...`` (for the API docs)."""
        waits = [self.delay(n) for n in range(1, self.max_attempts)]
        return ", ".join(_words(w) for w in waits) or "no retries"

    def next_attempt(self, attempts: int, failed_at: datetime) -> datetime | None:
        """When to try again after the *attempts*-th attempt failed at *failed_at*; None when
        that was the last one (the delivery has failed)."""
        if attempts >= self.max_attempts:
            return None
        return failed_at + self.delay(attempts)


def _words(wait: timedelta) -> str:
    seconds = round(wait.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600, 1):g} h"
