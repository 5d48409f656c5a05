"""Read models for the settlement's operational gauges (metrics.py)."""

from __future__ import annotations

from datetime import date

import asyncpg


async def runs_past_deadline(conn: asyncpg.Connection, today: date, deadline_days: int) -> int:
    """Runs not completed (queued, waiting, running, blocked) although *deadline_days* have
    passed since their month ended: a month that should be settled by now and is not."""
    count: int = await conn.fetchval(
        """SELECT count(*) FROM settlement_run
            WHERE status NOT IN ('completed', 'failed')
              AND (to_date(billing_period, 'YYYY-MM') + interval '1 month')::date
                  + $2::integer <= $1""",
        today,
        deadline_days,
    )
    return count
