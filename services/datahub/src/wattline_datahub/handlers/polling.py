"""Take one message of a DataHub queue category: peek, store, dequeue.

At-least-once: a message is dequeued only after its raw body, its events and its outcome
are committed; a crash in between makes DataHub serve it again, and the stored MessageId
turns that into a no-op. One replica polls a category at a time (a lease,
:mod:`wattline_datahub.jobs.pollers`), which keeps DataHub's order.
"""

from __future__ import annotations

import time

from wattline_platform.logging import correlation_id_var, get_logger, new_correlation_id

from wattline_datahub import metrics
from wattline_datahub.handlers import Datahub
from wattline_datahub.handlers.calls import call_datahub
from wattline_datahub.handlers.inbound import Stored, store_inbound

log = get_logger(__name__)


async def take_one(dh: Datahub, category: str) -> Stored | None:
    """Take one message from *category* through to dequeue; None when the queue is empty."""
    started = time.perf_counter()
    max_backoff_s = dh.settings.max_backoff_s
    peeked = await call_datahub("peek", lambda: dh.client.peek(category), max_backoff_s)
    metrics.PEEK_SECONDS.labels(category).observe(time.perf_counter() - started)
    if peeked is None:
        metrics.QUEUE_DEPTH.labels(category).set(0)
        return None
    # One correlation id per DataHub message: every event it brings and every log line about
    # it carry the same one (the consumers set it again from the event's envelope), so the
    # message can be followed into the services that use it.
    token = correlation_id_var.set(new_correlation_id())
    try:
        stored = await store_inbound(dh.service, category, peeked.message_id, peeked.body)
        log.info(
            "datahub_message_taken",
            category=category,
            datahub_message_id=peeked.message_id,
            outcome=stored.outcome,
            events=stored.events,
        )
    finally:
        correlation_id_var.reset(token)
    if stored.outcome == "dead_lettered":
        log.error(
            "datahub_message_dead_lettered",
            category=category,
            message_id=peeked.message_id,
            reason=stored.reason,
        )
    await call_datahub("dequeue", lambda: dh.client.dequeue(peeked.message_id), max_backoff_s)
    metrics.QUEUE_DEPTH.labels(category).inc()
    return stored
