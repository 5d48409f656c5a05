"""Webhooks: partners subscribe a URL to invoicing's events, the fan-out turns each new
outbox row into one delivery per subscription that wants it, and delivery passes POST them,
signed, until the receiver answers 2xx or the attempts run out.

Why it is correct:

* **Nothing is fanned out twice, nothing is skipped.** The fan-out reads the outbox in id
  order from its watermark (``webhook_fanout``), only rows no earlier id can still join
  (``adapters.webhooks.committed_outbox_after`` takes the outbox's append lock, as the
  relay does), then inserts the deliveries and moves the watermark in one transaction. A
  crash before that commit repeats the batch; ``UNIQUE (subscription_id, event_id)`` makes
  the repetition create nothing. One replica fans out at a time (a session advisory lock).
* **Which events a subscription gets**: those with an outbox id greater than the outbox's
  largest id when it was made (``domain.webhooks.wants``). Subscribing takes the fan-out's
  lock, so no pass can be between reading the subscriptions and moving the watermark while
  that id is drawn: every later event is read by a pass that knows the subscription.
* **No attempt is sent by two replicas at once.** A pass claims due deliveries with
  ``FOR UPDATE SKIP LOCKED`` and moves them out of the due window for a lease (longer than
  the sender's timeout); the outcome is recorded only under the same claim.
* **At least once, not exactly once.** A crash after the receiver got the request and before
  the outcome is recorded sends it again when the lease ends; so can a manual re-send. Every
  attempt of an event carries the same ``webhook-id`` (the event id): receivers deduplicate
  on it, as the Standard Webhooks spec asks of them. Deliveries of one subscription are not
  ordered (a retried event arrives after later ones): each body names its event and time.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from wattline_platform import leases
from wattline_platform.leases import lock_key
from wattline_platform.logging import get_logger
from wattline_platform.pii import PiiCipher

from wattline_invoicing.adapters import webhooks as store
from wattline_invoicing.adapters.webhooks import (
    Claim,
    Delivery,
    DeliveryStatus,
    HttpSender,
    NewDelivery,
    SecretBox,
    SecretUnavailable,
    Sent,
    Subscription,
)
from wattline_invoicing.domain import webhooks as rules
from wattline_invoicing.domain.webhooks import RetrySchedule
from wattline_invoicing.handlers import Invoicing, cursors
from wattline_invoicing.handlers.cursors import InvalidCursor

log = get_logger(__name__)

SCHEDULE = RetrySchedule()
# A claim's lease: longer than the sender's timeout (10 s) with room for a slow database, so
# a live claimer always records before anyone may take the delivery over.
LEASE = timedelta(seconds=60)
FANOUT_BATCH = 500
DELIVERY_BATCH = 50
CONCURRENCY = 10  # requests in flight per pass
_FANOUT_LOCK = lock_key("invoicing-webhook-fanout")


class WebhookNotFound(Exception):
    """No such subscription."""


class DeliveryNotFound(Exception):
    """No such delivery of that subscription."""


class WebhookDisabled(Exception):
    """The subscription is disabled: nothing is sent to it any more."""


class DeliveryInFlight(Exception):
    """The delivery is being attempted right now; re-send it after the attempt."""


class Sender(Protocol):
    """Signs and sends one delivery (``adapters.webhooks.HttpSender``)."""

    async def send(self, url: str, *, msg_id: str, body: str, secret: str) -> Sent: ...


def _wall_clock() -> datetime:
    # Retries are transport time, not business time: a simulated clock that jumps a month
    # must not make every backoff expire at once, nor a frozen one stop them.
    return datetime.now(UTC)


def _clock(now: datetime | None) -> Callable[[], datetime]:
    return _wall_clock if now is None else lambda: now


# -- subscriptions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """A new subscription and its signing secret (shown this once)."""

    subscription: Subscription
    secret: str


async def subscribe(
    inv: Invoicing,
    url: str,
    event_types: Sequence[str],
    description: str | None = None,
    *,
    cipher: PiiCipher | None = None,
) -> Created:
    """Subscribe *url* to *event_types* from the next event on (see the module docstring).
    The secret is sealed with *cipher* when there is one (``adapters.webhooks.SecretBox``)."""
    url = rules.check_url(url, allow_private=inv.settings.webhook_allow_private)
    types = rules.check_event_types(event_types)
    secret = rules.new_secret()
    async with inv.service.database.transaction() as tx:
        await leases.xact_lock(tx, _FANOUT_LOCK)
        created = await store.add_subscription(
            tx, uuid.uuid4(), url, types, description, SecretBox(cipher).seal(secret)
        )
    log.info("webhook_subscribed", subscription_id=str(created.subscription_id), types=types)
    return Created(created, secret)


async def subscriptions(
    inv: Invoicing, after: str | None, limit: int
) -> tuple[list[Subscription], str | None]:
    """A page of subscriptions, oldest first, and the cursor of the next (None: the last)."""
    position = None if after is None else cursors.decode(after)
    async with inv.service.database.connection() as conn:
        items = await store.subscriptions_page(conn, position, limit)
    last = items[-1] if len(items) == limit else None
    return items, None if last is None else cursors.encode(last.created_at, last.subscription_id)


async def subscription(inv: Invoicing, subscription_id: uuid.UUID) -> Subscription:
    async with inv.service.database.connection() as conn:
        found = await store.subscription(conn, subscription_id)
    if found is None:
        raise WebhookNotFound(str(subscription_id))
    return found


async def disable(
    inv: Invoicing, subscription_id: uuid.UUID, *, now: datetime | None = None
) -> Subscription:
    """Stop sending to a subscription: no new deliveries, and its pending ones are not
    attempted (they stay in the log as they were). Disabling twice changes nothing."""
    async with inv.service.database.transaction() as tx:
        found = await store.disable(tx, subscription_id, _clock(now)())
    if found is None:
        raise WebhookNotFound(str(subscription_id))
    log.info("webhook_disabled", subscription_id=str(subscription_id))
    return found


# -- fan-out ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FannedOut:
    read: int  # outbox rows read (a full batch: there may be more)
    created: int  # deliveries created


async def fan_out(
    inv: Invoicing, *, batch: int = FANOUT_BATCH, now: datetime | None = None
) -> FannedOut:
    """Turn the next *batch* outbox rows into deliveries due at *now* (see the module
    docstring). Another replica fanning out, or a writer still between drawing an outbox id
    and committing, makes this pass read nothing; the next one goes on."""
    db = inv.service.database
    async with db.connection() as conn, leases.held_on(conn, _FANOUT_LOCK) as ours:
        if not ours:
            return FannedOut(0, 0)
        targets = await store.active_targets(conn)
        wanted = sorted({t for target in targets for t in target.event_types})
        mark = await store.fanout_mark(conn)
        events = await store.committed_outbox_after(conn, db.schema, mark, batch, wanted)
        if not events:
            return FannedOut(0, 0)
        new = [
            NewDelivery(
                target.subscription_id,
                event.event_id,
                event.outbox_id,
                event.event_type,
                rules.body(event.envelope),
            )
            for event in events
            if event.envelope is not None
            for target in targets
            if rules.wants(
                target.event_types, target.start_after, event.outbox_id, event.event_type
            )
        ]
        async with conn.transaction():
            created = await store.add_deliveries(conn, new, _clock(now)())
            await store.move_fanout_mark(conn, events[-1].outbox_id)
    return FannedOut(len(events), created)


# -- delivery --------------------------------------------------------------------------------


async def deliver_due(
    inv: Invoicing,
    *,
    cipher: PiiCipher | None = None,
    sender: Sender | None = None,
    schedule: RetrySchedule = SCHEDULE,
    now: datetime | None = None,
    batch: int = DELIVERY_BATCH,
    lease: timedelta = LEASE,
    concurrency: int = CONCURRENCY,
) -> int:
    """Attempt up to *batch* due deliveries, *concurrency* at a time; returns how many were
    attempted (see the module docstring for why no attempt is sent twice at once).

    A 2xx answer is success; any other answer, no answer, or a secret this process cannot
    open, is a failure tried again after ``schedule.delay`` until ``schedule.max_attempts``,
    then the delivery has failed (a manual re-send gives it one more attempt). *sender*
    defaults to an :class:`HttpSender` for this pass; *now* fixes the clock (tests).
    """
    clock = _clock(now)
    claimed_at = clock()
    async with inv.service.database.transaction() as tx:
        claims = await store.claim_due(tx, claimed_at, claimed_at + lease, batch)
    if not claims:
        return 0
    box = SecretBox(cipher)
    gate = asyncio.Semaphore(concurrency)
    async with AsyncExitStack() as stack:
        chosen = (
            sender
            if sender is not None
            else await stack.enter_async_context(
                HttpSender(allow_private=inv.settings.webhook_allow_private)
            )
        )

        async def attempt(claim: Claim) -> None:
            async with gate:
                try:
                    secret = box.open(claim.secret_sealed)
                except SecretUnavailable as exc:
                    sent = Sent(None, str(exc))
                else:
                    sent = await chosen.send(
                        claim.url, msg_id=str(claim.event_id), body=claim.body, secret=secret
                    )
            await _record(inv, claim, sent, schedule, clock())

        outcomes = await asyncio.gather(*(attempt(c) for c in claims), return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors:
        log.error("webhook_record_failed", error=repr(error))
    if errors:
        raise errors[0]
    return len(claims)


async def _record(
    inv: Invoicing, claim: Claim, sent: Sent, schedule: RetrySchedule, at: datetime
) -> None:
    status: DeliveryStatus
    if rules.succeeded(sent.status):
        status, next_at, error = "succeeded", None, None
    else:
        next_at = schedule.next_attempt(claim.attempts, at)
        status = "pending" if next_at is not None else "failed"
        error = rules.short_error(sent.error or f"HTTP {sent.status}")
    async with inv.service.database.transaction() as tx:
        kept = await store.record_attempt(
            tx,
            claim,
            at=at,
            status=status,
            next_attempt_at=next_at,
            http_status=sent.status,
            error=error,
        )
    fields = {
        "subscription_id": str(claim.subscription_id),
        "event_id": str(claim.event_id),
        "attempt": claim.attempts,
        "http_status": sent.status,
    }
    if not kept:
        log.warning("webhook_claim_lost", **fields)
    elif status == "failed":
        log.error("webhook_delivery_failed", error=error, **fields)
    elif status == "pending":
        log.info("webhook_attempt_failed", error=error, retry_at=str(next_at), **fields)


async def resend(
    inv: Invoicing,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> Delivery:
    """Make a delivery due now, whatever its state (failed, succeeded, waiting for a retry):
    the next pass attempts it once more, with the same ``webhook-id``."""
    at = _clock(now)()
    async with inv.service.database.transaction() as tx:
        found = await store.subscription(tx, subscription_id)
        if found is None:
            raise WebhookNotFound(str(subscription_id))
        if found.status != "active":
            raise WebhookDisabled(f"subscription {subscription_id} is disabled")
        current = await store.delivery(tx, subscription_id, delivery_id, lock=True)
        if current is None:
            raise DeliveryNotFound(str(delivery_id))
        leased = current.next_attempt_at is not None and current.next_attempt_at > at
        if current.status == "pending" and current.claimed and leased:
            raise DeliveryInFlight(f"delivery {delivery_id} is being attempted now")
        return await store.due_now(tx, delivery_id, at)


def _encode_position(outbox_id: int) -> str:
    return base64.urlsafe_b64encode(f"d:{outbox_id}".encode()).decode().rstrip("=")


def _decode_position(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, value = raw.split(":")
        if tag != "d" or not (value.isascii() and value.isdigit()) or len(value) > 18:
            raise ValueError(cursor)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None


async def deliveries(
    inv: Invoicing,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    after: str | None,
    limit: int,
) -> tuple[list[Delivery], str | None]:
    """A page of a subscription's delivery log, newest event first, and the next page's
    cursor (None: the last)."""
    position = None if after is None else _decode_position(after)
    async with inv.service.database.connection() as conn:
        if await store.subscription(conn, subscription_id) is None:
            raise WebhookNotFound(str(subscription_id))
        items = await store.deliveries_page(
            conn, subscription_id, status=status, before_outbox_id=position, limit=limit
        )
    last = items[-1] if len(items) == limit else None
    return items, None if last is None else _encode_position(last.outbox_id)
