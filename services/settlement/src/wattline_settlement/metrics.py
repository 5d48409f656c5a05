"""Prometheus metrics of settlement runs."""

from __future__ import annotations

import asyncpg
from prometheus_client import Counter, Gauge, Histogram
from wattline_platform.business_days import danish_today
from wattline_platform.clock import Clock

from wattline_settlement.adapters import operations

RUNS = Counter(
    "wattline_settlement_runs_total",
    "Settlement runs finished by this process, by outcome (completed, blocked, failed)",
    ["outcome"],
)
RUN_SECONDS = Histogram(
    "wattline_settlement_run_duration_seconds",
    "How long one attempt of a settlement run took, by outcome",
    ["outcome"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
RUNS_PAST_DEADLINE = Gauge(
    "wattline_settlement_runs_past_deadline",
    "Runs not completed although the month's settlement deadline (run_deadline_days) passed",
)
for _outcome in ("completed", "blocked", "failed"):  # exported at 0 before the first run
    RUNS.labels(_outcome)


def run_finished(outcome: str, seconds: float) -> None:
    """Count one attempt of a run and its duration."""
    RUNS.labels(outcome).inc()
    RUN_SECONDS.labels(outcome).observe(seconds)


async def refresh(conn: asyncpg.Connection, clock: Clock, deadline_days: int) -> None:
    """Set the gauges from the settlement's tables."""
    today = danish_today(await clock.now())
    RUNS_PAST_DEADLINE.set(await operations.runs_past_deadline(conn, today, deadline_days))
