"""Take one message of a DataHub queue category: peek, keep, dequeue.

At-least-once: a message is dequeued only after its raw body is committed (``received``); a
crash in between makes DataHub serve it again, and the stored MessageId turns that into a
no-op. Parsing it into events is the parse workers' (:func:`wattline_datahub.handlers.
inbound.parse_next`, in every replica), which commit a category's messages in the order kept
here. One replica polls a category at a time (a lease, :mod:`wattline_datahub.jobs.pollers`):
DataHub serves a queue one message at a time, and one poller keeps its order.
"""

from __future__ import annotations

import time

from wattline_platform.logging import get_logger

from wattline_datahub import metrics
from wattline_datahub.handlers import Datahub
from wattline_datahub.handlers.calls import call_datahub
from wattline_datahub.handlers.inbound import Stored, receive

log = get_logger(__name__)


async def take_one(dh: Datahub, category: str) -> Stored | None:
    """Keep one message of *category* (``received``, or ``duplicate``) and dequeue it; None
    when the queue is empty."""
    started = time.perf_counter()
    max_backoff_s = dh.settings.max_backoff_s
    peeked = await call_datahub("peek", lambda: dh.client.peek(category), max_backoff_s)
    metrics.PEEK_SECONDS.labels(category).observe(time.perf_counter() - started)
    if peeked is None:
        metrics.QUEUE_DEPTH.labels(category).set(0)
        return None
    stored = await receive(dh.service, category, peeked.message_id, peeked.body)
    log.info(
        "datahub_message_taken",
        category=category,
        datahub_message_id=peeked.message_id,
        outcome=stored.outcome,
    )
    await call_datahub("dequeue", lambda: dh.client.dequeue(peeked.message_id), max_backoff_s)
    metrics.QUEUE_DEPTH.labels(category).inc()
    return stored
