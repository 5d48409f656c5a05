"""SQL for wholesale settlement: the energy sent per day and the RSM-019 documents queued."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

Key = tuple[str, str, str | None]  # grid area, metering point type, settlement method


async def record_day(
    conn: asyncpg.Connection, day: date, sent: dict[Key, tuple[list[int], int]]
) -> None:
    """What *day* sent per grid area, type and method: hourly Wh and the points' count."""
    await conn.executemany(
        """INSERT INTO wholesale_hours (local_date, grid_area, metering_point_type,
               settlement_method, hourly_wh, metering_points)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [
            (day, area, mp_type, method or "", hourly, count)
            for (area, mp_type, method), (hourly, count) in sent.items()
        ],
    )


async def add_corrections(
    conn: asyncpg.Connection, deltas: dict[tuple[date, Key], list[int]]
) -> None:
    """Add what corrections changed (hourly Wh) to the days they correct."""
    await conn.executemany(
        """UPDATE wholesale_hours
           SET hourly_wh = (SELECT array_agg(h + d ORDER BY i)
                            FROM unnest(hourly_wh, $5::bigint[]) WITH ORDINALITY AS t(h, d, i))
           WHERE local_date = $1 AND grid_area = $2 AND metering_point_type = $3
             AND settlement_method = $4""",
        [
            (day, area, mp_type, method or "", delta)
            for (day, (area, mp_type, method)), delta in deltas.items()
        ],
    )


async def sent_days(
    conn: asyncpg.Connection, first: date, until: date, grid_area: str | None
) -> list[asyncpg.Record]:
    """The energy sent on the local days [first, until) (in *grid_area*, if given)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM wholesale_hours
           WHERE local_date >= $1 AND local_date < $2 AND ($3::text IS NULL OR grid_area = $3)
           ORDER BY local_date, grid_area, metering_point_type, settlement_method""",
        first,
        until,
        grid_area,
    )
    return rows


async def log_generated(
    conn: asyncpg.Connection,
    rows: list[tuple[str, str, str, str, str, date, str, Decimal, Decimal | None]],
) -> None:
    """Record queued RSM-019 documents ``(billing_period, grid_area, owner, type, id,
    local_date, message_id, amount_dkk, deviation_dkk)``."""
    await conn.executemany(
        """INSERT INTO generated_wholesale (billing_period, grid_area, charge_owner_gln,
               charge_type, charge_id, local_date, message_id, amount_dkk, deviation_dkk)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        rows,
    )


async def generated(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM generated_wholesale
           ORDER BY billing_period, grid_area, charge_owner_gln, charge_type, charge_id"""
    )
    return rows
