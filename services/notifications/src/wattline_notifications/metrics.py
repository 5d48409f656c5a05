"""The notifications service's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

DELIVERY_ATTEMPTS = Counter(
    "wattline_notifications_delivery_attempts_total",
    "Attempts to deliver a notification, by channel and outcome (sent, retry, failed, skipped)",
    ["channel", "outcome"],
)
