"""Calling DataHub until it answers: back off on transient failures, as DataHub asks."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never
from wattline_platform.logging import get_logger

from wattline_datahub import metrics
from wattline_datahub.adapters.datahub_client import Transient

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
