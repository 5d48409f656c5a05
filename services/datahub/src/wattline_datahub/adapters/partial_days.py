"""SQL for partial_days: local days RSM-012 series have covered only in part so far."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg
from wattline_cim import LocalDay


async def get(conn: asyncpg.Connection, gsrn: str, local_date: date) -> LocalDay | None:
    """The day as merged so far, locked until the transaction ends; None if none is kept."""
    row = await conn.fetchrow(
        """SELECT resolution, quantities, qualities, received FROM partial_days
           WHERE gsrn = $1 AND local_date = $2 FOR UPDATE""",
        gsrn,
        local_date,
    )
    if row is None:
        return None
    received = tuple(row["received"])
    return LocalDay(
        gsrn=gsrn,
        local_date=local_date,
        resolution=row["resolution"],
        values=tuple(row["quantities"]),
        qualities=tuple(row["qualities"]),
        received=None if all(received) else received,
    )


async def kept(conn: asyncpg.Connection, days: Sequence[LocalDay]) -> set[tuple[str, date]]:
    """Which of *days* (by metering point and date) have a row (one query for all)."""
    if not days:
        return set()
    rows = await conn.fetch(
        """SELECT p.gsrn, p.local_date FROM partial_days p
           JOIN unnest($1::text[], $2::date[]) AS d(gsrn, local_date)
             ON p.gsrn = d.gsrn AND p.local_date = d.local_date""",
        [d.gsrn for d in days],
        [d.local_date for d in days],
    )
    return {(r["gsrn"], r["local_date"]) for r in rows}


async def save(conn: asyncpg.Connection, day: LocalDay) -> None:
    """Keep *day* as it now stands (insert or replace)."""
    await conn.execute(
        """INSERT INTO partial_days (gsrn, local_date, resolution, quantities, qualities, received)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (gsrn, local_date) DO UPDATE SET
               resolution = EXCLUDED.resolution, quantities = EXCLUDED.quantities,
               qualities = EXCLUDED.qualities, received = EXCLUDED.received,
               updated_at = now()""",
        day.gsrn,
        day.local_date,
        day.resolution,
        list(day.values),
        list(day.qualities),
        list(day.received or (True,) * len(day.values)),
    )
