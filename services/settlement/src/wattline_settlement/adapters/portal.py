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


async def price_areas(
    conn: asyncpg.Connection, customer_id: str, day: date
) -> dict[str, list[str]]:
    """The price areas of *customer_id*'s metering points with the GSRNs in each: those supplied
    on *day*, else every one they were ever supplied at (empty: none)."""
    rows = await conn.fetch(
        """SELECT m.price_area, s.gsrn,
                  bool_or(s.start_date <= $2 AND (s.end_date IS NULL OR $2 < s.end_date))
                      AS on_day
           FROM supply_periods s JOIN metering_points m USING (gsrn)
           WHERE s.customer_id = $1 AND (s.end_date IS NULL OR s.end_date > s.start_date)
           GROUP BY m.price_area, s.gsrn
           ORDER BY m.price_area, s.gsrn""",
        customer_id,
        day,
    )
    chosen = [r for r in rows if r["on_day"]] or list(rows)
    areas: dict[str, list[str]] = {}
    for r in chosen:
        areas.setdefault(r["price_area"], []).append(r["gsrn"])
    return areas
