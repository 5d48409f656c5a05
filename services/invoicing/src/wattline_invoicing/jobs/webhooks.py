"""The webhook job: fans new outbox rows out to subscriptions and sends what is due, about
once a second.

Every replica may run it. The fan-out runs on one replica at a time (an advisory lock in
``handlers.webhooks.fan_out``; the others skip it), and deliveries are claimed with
``FOR UPDATE SKIP LOCKED`` and a lease, so replicas share the sending and never attempt the
same delivery at the same time. The job outlives any one failure: an error is logged and
the next pass starts after the interval.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from wattline_platform.logging import get_logger
from wattline_platform.pii import PiiCipher

from wattline_invoicing.adapters.webhooks import HttpSender
from wattline_invoicing.handlers import Invoicing, webhooks
from wattline_invoicing.handlers.webhooks import Sender

log = get_logger(__name__)

INTERVAL_S = 1.0
MAX_ROUNDS = 20  # batches per pass before sleeping, so a backlog does not starve the loop


@dataclass(frozen=True)
class Pass:
    fanned_out: int  # deliveries created
    attempted: int  # deliveries attempted


async def run_once(inv: Invoicing, *, sender: Sender, cipher: PiiCipher | None = None) -> Pass:
    """Fan out and deliver until both are caught up (or :data:`MAX_ROUNDS` batches each)."""
    created = attempted = 0
    for _ in range(MAX_ROUNDS):
        fanned = await webhooks.fan_out(inv)
        created += fanned.created
        if fanned.read < webhooks.FANOUT_BATCH:
            break
    for _ in range(MAX_ROUNDS):
        sent = await webhooks.deliver_due(inv, cipher=cipher, sender=sender)
        attempted += sent
        if sent < webhooks.DELIVERY_BATCH:
            break
    return Pass(created, attempted)


async def webhook_job(
    inv: Invoicing, cipher: PiiCipher | None = None, *, interval_s: float = INTERVAL_S
) -> None:
    """Run :func:`run_once` every *interval_s* until cancelled, with one HTTP client for the
    job's life. *cipher* opens the signing secrets: pass the one the API seals them with."""
    async with HttpSender(allow_private=inv.settings.webhook_allow_private) as sender:
        while True:
            try:
                done = await run_once(inv, sender=sender, cipher=cipher)
                if done.fanned_out or done.attempted:
                    log.info(
                        "webhook_job_pass", fanned_out=done.fanned_out, attempted=done.attempted
                    )
            except Exception as exc:
                log.error("webhook_job_failed", error=repr(exc))
            await asyncio.sleep(interval_s)
