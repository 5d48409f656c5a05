"""Prometheus gauges of the portfolio: metering points supplied and onboarding processes open."""

from __future__ import annotations

from typing import get_args

import asyncpg
from prometheus_client import Gauge
from wattline_contracts.portfolio import BrsKind
from wattline_platform.business_days import danish_today
from wattline_platform.clock import Clock

from wattline_portfolio.adapters import operations

ACTIVE_METERING_POINTS = Gauge(
    "wattline_portfolio_active_metering_points",
    "Metering points supplied today (under an active supply period)",
)
PENDING_PROCESSES = Gauge(
    "wattline_portfolio_pending_processes",
    "Onboarding and back-office processes (BRS) not yet completed, rejected or cancelled",
    ["kind"],
)
OLDEST_PENDING_PROCESS = Gauge(
    "wattline_portfolio_oldest_pending_process_seconds",
    "Age of the oldest open process of a kind (0: none open)",
    ["kind"],
)


async def refresh(conn: asyncpg.Connection, clock: Clock) -> None:
    """Set the gauges from the portfolio's tables; every kind is set, 0 when none is open."""
    today = danish_today(await clock.now())
    ACTIVE_METERING_POINTS.set(await operations.active_metering_points(conn, today))
    pending = await operations.pending_processes(conn)
    for kind in get_args(BrsKind):
        count, oldest_s = pending.get(kind, (0, 0.0))
        PENDING_PROCESSES.labels(kind).set(count)
        OLDEST_PENDING_PROCESS.labels(kind).set(oldest_s)
