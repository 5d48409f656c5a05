"""Prometheus metrics of the DataHub integration."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "wattline_datahub_messages_total",
    "DataHub messages by category and outcome (stored, dead_lettered, duplicate, retried)",
    ["category", "outcome"],
)
QUEUE_DEPTH = Gauge(
    "wattline_datahub_queue_depth_estimate",
    "Messages taken from a category since it was last empty (a lower bound of its depth)",
    ["category"],
)
REQUEST_SECONDS = Histogram(
    "wattline_datahub_request_seconds", "Latency of calls to DataHub", ["operation"]
)
PEEK_SECONDS = Histogram(
    "wattline_datahub_peek_seconds",
    "Time to peek a queue category, retries included (how long DataHub kept us waiting)",
    ["category"],
)
FAILURES = Counter(
    "wattline_datahub_call_failures_total",
    "Calls to DataHub that failed transiently (429, 5xx, network)",
    ["operation"],
)
SERIES_REFUSED = Counter(
    "wattline_datahub_series_refused_total",
    "RSM-012 series refused on their own (their neighbours in the document were taken)",
    ["category"],
)
MISSING_DATA_REMINDERS = Counter(
    "wattline_datahub_missing_data_reminders_total",
    "Metering points DataHub reminded us it misses measure data for (RSM-018)",
)
PARSE_SECONDS = Histogram(
    "wattline_datahub_parse_seconds",
    "Time to parse a received DataHub message into its events (in a thread or a process)",
    ["category"],
)
