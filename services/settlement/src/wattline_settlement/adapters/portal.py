"""SQL of the customer portal: which metering points are a customer's (settlement's copy of
the portfolio's supply periods)."""

from __future__ import annotations

from datetime import date

import asyncpg


async def supply_dates(
    conn: asyncpg.Connection, customer_id: str, gsrn: str
) -> list[tuple[date, date | None]]:
    """The ``[start, end)`` local dates *customer_id* is supplied at *gsrn* (none: not theirs)."""
    rows = await conn.fetch(
        """SELECT start_date, end_date FROM supply_periods
           WHERE customer_id = $1 AND gsrn = $2
             AND (end_date IS NULL OR end_date > start_date)
           ORDER BY start_date""",
        customer_id,
        gsrn,
    )
    return [(r["start_date"], r["end_date"]) for r in rows]
