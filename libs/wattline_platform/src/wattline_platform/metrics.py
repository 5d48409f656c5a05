"""Prometheus metrics every service exposes on ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
