"""One poller per DataHub queue category: peek, store, dequeue, again.

At-least-once: a message is dequeued only after its raw body, its events and its outcome
are committed; a crash in between makes DataHub serve it again, and the stored MessageId
turns that into a no-op. One replica polls a category at a time (a Postgres lease), which
keeps DataHub's order; categories are polled concurrently.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never
from wattline_platform.logging import correlation_id_var, get_logger, new_correlation_id
from wattline_platform.outbox import lock_key
from wattline_platform.service import Service

from wattline_datahub import handlers, metrics
from wattline_datahub.adapters.datahub_client import DataHubClient, Transient
from wattline_datahub.settings import DatahubSettings

log = get_logger(__name__)
T = TypeVar("T")


def _wait(max_backoff_s: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return exc.retry_after  # DataHub said how long: do as told
        return float(min(0.25 * 2 ** (state.attempt_number - 1), max_backoff_s))

    return wait


async def call_datahub(operation: str, fn: Callable[[], Awaitable[T]], max_backoff_s: float) -> T:
    """Call DataHub until it answers, backing off (and honouring Retry-After) on failures."""

    def note(state: RetryCallState) -> None:
        metrics.FAILURES.labels(operation).inc()
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "datahub_call_failed", operation=operation, error=str(exc), attempt=state.attempt_number
        )

    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(Transient),
        wait=_wait(max_backoff_s),
        stop=stop_never,
        before_sleep=note,
        reraise=True,
    ):
        with attempt:
            started = time.perf_counter()
            result = await fn()
            metrics.REQUEST_SECONDS.labels(operation).observe(time.perf_counter() - started)
            return result
    raise AssertionError("unreachable")


async def poll_once(
    service: Service, client: DataHubClient, category: str, settings: DatahubSettings
) -> handlers.Stored | None:
    """Take one message from *category* through to dequeue; None when the queue is empty."""
    started = time.perf_counter()
    peeked = await call_datahub("peek", lambda: client.peek(category), settings.max_backoff_s)
    metrics.PEEK_SECONDS.labels(category).observe(time.perf_counter() - started)
    if peeked is None:
        metrics.QUEUE_DEPTH.labels(category).set(0)
        return None
    # One correlation id per DataHub message: every event it brings and every log line about
    # it carry the same one (the consumers set it again from the event's envelope), so the
    # message can be followed into the services that use it.
    token = correlation_id_var.set(new_correlation_id())
    try:
        stored = await handlers.store_inbound(service, category, peeked.message_id, peeked.body)
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
    await call_datahub("dequeue", lambda: client.dequeue(peeked.message_id), settings.max_backoff_s)
    metrics.QUEUE_DEPTH.labels(category).inc()
    return stored


async def run_poller(
    service: Service,
    client: DataHubClient,
    category: str,
    settings: DatahubSettings,
    slots: asyncio.Semaphore,
) -> None:
    """Poll *category* for as long as the service runs, while holding its lease."""
    while True:
        try:
            async with service.database.connection() as lease:
                if not await lease.fetchval(
                    "SELECT pg_try_advisory_lock($1)", lock_key(f"datahub-poll:{category}")
                ):
                    await asyncio.sleep(5.0)  # another replica polls this category
                    continue
                log.info("datahub_polling", category=category)
                while True:
                    async with slots:
                        stored = await poll_once(service, client, category, settings)
                    if stored is None:
                        await asyncio.sleep(settings.idle_poll_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # database trouble: the message stays queued; try again
            log.warning("datahub_poller_error", category=category, error=repr(exc))
            await asyncio.sleep(1.0)


def start_pollers(service: Service, client: DataHubClient, settings: DatahubSettings) -> None:
    """Register one polling job per configured category on *service*."""
    slots = asyncio.Semaphore(settings.concurrency)
    for category in settings.categories:
        service.background.append(
            lambda c=category: run_poller(service, client, c, settings, slots)  # type: ignore[misc]
        )
