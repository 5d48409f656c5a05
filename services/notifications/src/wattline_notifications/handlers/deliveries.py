"""Sending: one due delivery at a time, in its own transaction holding its row, so replicas
share the queue (SKIP LOCKED) and a crash leaves the row pending for the next attempt.

A message may go out twice if the process dies between the server's acceptance and the
commit (at least once: SMTP has no idempotency key); it is never lost. Addresses are opened
from the sealed contact only here, in memory, and never logged.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from wattline_platform.logging import get_logger
from wattline_platform.pii import PiiError

from wattline_notifications.adapters import store
from wattline_notifications.adapters.senders import DeliveryFailed, OutgoingEmail, OutgoingSms
from wattline_notifications.handlers import Notifications
from wattline_notifications.metrics import DELIVERY_ATTEMPTS

log = get_logger(__name__)


class Skip(Exception):
    """Nothing to send this through (no address of that kind): recorded as skipped."""


async def deliver_due(n: Notifications, *, limit: int = 100) -> int:
    """Attempt up to *limit* due deliveries; how many were attempted."""
    done = 0
    while done < limit:
        async with n.service.database.transaction() as tx:
            now = await n.service.clock.now()
            row = await store.claim_due(tx, now, n.channels)
            if row is None:
                return done
            await _attempt(n, tx, row, now)
        done += 1
    return done


async def _attempt(n: Notifications, tx: asyncpg.Connection, row: asyncpg.Record, now: Any) -> None:
    attempts = row["attempts"] + 1
    delivery_id, channel = row["delivery_id"], row["channel"]
    try:
        provider_id = await _send(n, tx, row)
    except Skip as exc:
        await store.finish(tx, delivery_id, status="skipped", attempts=attempts, error=str(exc))
        outcome = "skipped"
    except DeliveryFailed as exc:
        wait = None if exc.permanent else n.backoff.delay(attempts)
        if wait is None:
            await store.finish(
                tx, delivery_id, status="failed", attempts=attempts, error=exc.reason
            )
            outcome = "failed"
        else:
            await store.finish(
                tx,
                delivery_id,
                status="pending",
                attempts=attempts,
                error=exc.reason,
                next_attempt_at=now + wait,
            )
            outcome = "retry"
    else:
        await store.finish(
            tx, delivery_id, status="sent", attempts=attempts, provider_id=provider_id
        )
        outcome = "sent"
    DELIVERY_ATTEMPTS.labels(channel, outcome).inc()
    log.info(
        "notification_attempted",
        delivery_id=str(delivery_id),
        kind=row["kind"],
        channel=channel,
        outcome=outcome,
        attempts=attempts,
    )


async def _send(n: Notifications, tx: asyncpg.Connection, row: asyncpg.Record) -> str:
    sealed = await store.contact(tx, row["party_id"])
    if sealed is None:
        # The activation that brings the details may still be on its way.
        raise DeliveryFailed("no contact details for the customer yet")
    if n.cipher is None:
        raise DeliveryFailed("no PII key: the contact details cannot be opened")
    try:
        person: dict[str, Any] = json.loads(n.cipher.open(sealed))
    except PiiError:
        raise DeliveryFailed("the contact details do not open with this key") from None
    facts = json.loads(row["facts"])
    name = str(person.get("name") or "")
    subject, body = n.templates[(row["kind"], row["channel"])].render({**facts, "name": name})
    if row["channel"] == "email":
        address = str(person.get("email") or "")
        if not address:
            raise Skip("the customer has no e-mail address")
        assert n.email is not None  # claim_due takes e-mails only with a mail server
        message_id: str = await n.email.send(OutgoingEmail(address, name, subject or "", body))
        return message_id
    phone = str(person.get("phone") or "")
    if not phone:
        raise Skip("the customer has no phone number")
    sms_id: str = await n.sms.send(OutgoingSms(str(row["delivery_id"]), phone, body))
    return sms_id
