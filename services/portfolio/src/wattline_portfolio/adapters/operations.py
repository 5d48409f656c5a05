"""Read models for the portfolio's operational gauges (metrics.py)."""

from __future__ import annotations

from datetime import date

import asyncpg

# A process that has not reached an end state is pending, whatever step it waits at.
_PENDING = """
SELECT kind, count(*) AS pending,
       coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest_s
  FROM process
 WHERE status NOT IN ('completed', 'rejected', 'cancelled')
 GROUP BY kind
"""


async def active_metering_points(conn: asyncpg.Connection, today: date) -> int:
    """Metering points we supply today: under an active supply period covering *today*."""
    count: int = await conn.fetchval(
        """SELECT count(DISTINCT gsrn) FROM supply_period
            WHERE status = 'active' AND start_date <= $1 AND (end_date IS NULL OR end_date > $1)""",
        today,
    )
    return count


async def pending_processes(conn: asyncpg.Connection) -> dict[str, tuple[int, float]]:
    """Per process kind (BRS-001...): how many are open and the oldest one's age in seconds."""
    rows = await conn.fetch(_PENDING)
    return {r["kind"]: (int(r["pending"]), float(r["oldest_s"])) for r in rows}
