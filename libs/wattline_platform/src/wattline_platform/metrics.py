"""Prometheus metrics every service exposes on ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import Counter, Gauge, Histogram

from wattline_platform.db import Database
from wattline_platform.logging import get_logger

log = get_logger(__name__)

HTTP_REQUESTS = Counter(
    "wattline_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "wattline_http_request_seconds", "HTTP request latency", ["method", "route"]
)
EVENTS_PUBLISHED = Counter(
    "wattline_events_published_total", "Outbox events published to the broker", ["schema"]
)
EVENTS_CONSUMED = Counter(
    "wattline_events_consumed_total",
    "Events consumed, by outcome (applied or duplicate)",
    ["service", "topic", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "wattline_events_dead_lettered_total",
    "Events sent to a dead-letter topic",
    ["service", "topic"],
)
OUTBOX_LAG = Gauge(
    "wattline_outbox_lag_seconds", "Age of the oldest unpublished outbox event", ["schema"]
)

# Gauges read from a service's own tables (active metering points, open processes, overdue
# runs): what a count *is* now, the same from every replica and after a restart, unlike a
# counter kept in one process. Each service's metrics module sets its own from an adapter.
GaugeRefresh = Callable[[asyncpg.Connection], Awaitable[None]]


async def refresh_gauges(db: Database, refresh: GaugeRefresh, interval_s: float = 15.0) -> None:
    """Call *refresh* with a connection every *interval_s* until cancelled; a failed refresh
    (the database away) is logged and tried again, leaving the gauges at their last values."""
    while True:
        try:
            async with db.connection() as conn:
                await refresh(conn)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("gauge_refresh_failed", error=repr(exc))
        await asyncio.sleep(interval_s)
