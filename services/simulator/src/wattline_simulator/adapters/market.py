"""SQL for the simulated market: metering points, generated days, estimates, processes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from wattline_platform import leases

GENERATION_LOCK = 0x5717_6E6E_0001  # advisory lock serialising the daily generation


async def lock_generation(conn: asyncpg.Connection) -> None:
    """Serialise generation (and process completion) until the transaction ends."""
    await leases.xact_lock(conn, GENERATION_LOCK)


async def supplied_points(conn: asyncpg.Connection, supplier_gln: str) -> list[asyncpg.Record]:
    """The metering points *supplier_gln* supplies, in GSRN order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT gsrn, grid_area, metering_point_type, settlement_method, resolution, profile,
                  annual_kwh
           FROM metering_point WHERE supplier_gln = $1 ORDER BY gsrn""",
        supplier_gln,
    )
    return rows


async def generated_days(conn: asyncpg.Connection) -> set[date]:
    return {r["local_date"] for r in await conn.fetch("SELECT local_date FROM generated_day")}


async def is_generated(conn: asyncpg.Connection, day: date) -> bool:
    found = await conn.fetchval("SELECT 1 FROM generated_day WHERE local_date = $1", day)
    return found is not None


async def pending_estimates(conn: asyncpg.Connection, before: date) -> list[asyncpg.Record]:
    """Estimated series of days before *before* whose correction is not sent yet."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT e.gsrn, e.local_date, e.transaction_id, m.metering_point_type, m.resolution,
                  m.profile, m.annual_kwh, m.grid_area, m.settlement_method
           FROM estimated_series e JOIN metering_point m USING (gsrn)
           WHERE e.corrected_on IS NULL AND e.local_date < $1
           ORDER BY e.local_date, e.gsrn""",
        before,
    )
    return rows


async def add_estimates(
    conn: asyncpg.Connection, rows: list[tuple[str, date, str, int, int]]
) -> None:
    """Record ``(gsrn, local_date, transaction_id, first_position, last_position)``."""
    await conn.copy_records_to_table(
        "estimated_series",
        records=rows,
        columns=["gsrn", "local_date", "transaction_id", "first_position", "last_position"],
    )


async def mark_corrected(
    conn: asyncpg.Connection, day: date, rows: list[tuple[str, date, str]]
) -> None:
    """Mark ``(gsrn, local_date, correction_transaction_id)`` estimates corrected on *day*."""
    await conn.executemany(
        """UPDATE estimated_series SET corrected_on = $4, correction_transaction_id = $3
           WHERE gsrn = $1 AND local_date = $2""",
        [(*row, day) for row in rows],
    )


async def record_day(
    conn: asyncpg.Connection,
    day: date,
    start: datetime,
    end: datetime,
    duration_ms: int,
    logs: list[tuple[str, str, int, int]],
    aggregates: list[tuple[str, str, str, int, Decimal, Decimal, int | None, Decimal | None]],
) -> None:
    """Write a generated day with its ``(category, kind, documents, series)`` counts and its
    aggregates ``(grid_area, message_id, transaction_id, metering_points, total_kwh,
    sent_total_kwh, deviation_position, deviation_kwh)``."""
    await conn.execute(
        """INSERT INTO generated_day (local_date, day_start, day_end, duration_ms)
           VALUES ($1, $2, $3, $4)""",
        day,
        start,
        end,
        duration_ms,
    )
    await conn.executemany(
        """INSERT INTO generated_log (local_date, category, kind, documents, series)
           VALUES ($1, $2, $3, $4, $5)""",
        [(day, *log) for log in logs],
    )
    await conn.executemany(
        """INSERT INTO generated_aggregate (local_date, grid_area, message_id, transaction_id,
               metering_points, total_kwh, sent_total_kwh, deviation_position, deviation_kwh)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [(day, *agg) for agg in aggregates],
    )


async def generated_summary(
    conn: asyncpg.Connection,
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], list[asyncpg.Record]]:
    """Generated days, their per-category counts and their aggregates, in day order."""
    days = await conn.fetch("SELECT * FROM generated_day ORDER BY local_date")
    logs = await conn.fetch("SELECT * FROM generated_log ORDER BY local_date, category, kind")
    aggregates = await conn.fetch(
        "SELECT * FROM generated_aggregate ORDER BY local_date, grid_area"
    )
    return days, logs, aggregates


async def estimates(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM estimated_series ORDER BY local_date, gsrn"
    )
    return rows


async def address_gsrns(conn: asyncpg.Connection, dar_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT gsrn FROM metering_point WHERE dar_id = $1 ORDER BY gsrn", dar_id
    )
    return [r["gsrn"] for r in rows]


async def metering_point(conn: asyncpg.Connection, gsrn: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM metering_point WHERE gsrn = $1", gsrn
    )
    return row


async def market_counts(conn: asyncpg.Connection) -> dict[str, Any]:
    """How many metering points there are, per supplier, grid area and resolution."""
    total = await conn.fetchval("SELECT count(*) FROM metering_point")
    by: dict[str, Any] = {"metering_points": total}
    for column in ("supplier_gln", "grid_area", "resolution", "metering_point_type"):
        rows = await conn.fetch(
            f"SELECT {column} AS k, count(*) AS n FROM metering_point GROUP BY 1 ORDER BY 1"
        )
        by[column] = {r["k"]: r["n"] for r in rows}
    return by


async def addresses(
    conn: asyncpg.Connection,
    our_gln: str,
    *,
    ours: bool,
    limit: int | None = None,
    after: uuid.UUID | None = None,
) -> dict[uuid.UUID, list[asyncpg.Record]]:
    """Addresses with all their metering points, in DAR id order after *after*.

    *ours*: the addresses where we supply some point. Otherwise the addresses a newcomer can
    switch to us: every point has another supplier and none is blocked.
    """
    rows = await conn.fetch(
        """WITH picked AS (
               SELECT dar_id FROM metering_point
               WHERE ($3::uuid IS NULL OR dar_id > $3)
               GROUP BY dar_id
               HAVING CASE WHEN $2 THEN bool_or(supplier_gln = $1)
                           ELSE NOT bool_or(blocked OR supplier_gln IS NULL
                                            OR supplier_gln = $1) END
               ORDER BY dar_id LIMIT $4)
           SELECT m.* FROM metering_point m JOIN picked USING (dar_id)
           ORDER BY m.dar_id, m.seed_index""",
        our_gln,
        ours,
        after,
        limit,
    )
    result: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for row in rows:
        result.setdefault(row["dar_id"], []).append(row)
    return result


async def any_generated(conn: asyncpg.Connection) -> bool:
    """Whether any day has been generated yet."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM generated_day)"))


async def generated_days_within(
    conn: asyncpg.Connection, start: datetime, end: datetime | None, limit: int
) -> list[date]:
    """Generated local days lying within [start, end) (at most *limit*), in order."""
    rows = await conn.fetch(
        """SELECT local_date FROM generated_day
           WHERE day_start >= $1 AND ($2::timestamptz IS NULL OR day_end <= $2)
           ORDER BY local_date LIMIT $3""",
        start,
        end,
        limit,
    )
    return [r["local_date"] for r in rows]


async def corrected_days(conn: asyncpg.Connection, gsrn: str) -> set[date]:
    """The local days whose estimated series of *gsrn* have been corrected."""
    rows = await conn.fetch(
        "SELECT local_date FROM estimated_series WHERE gsrn = $1 AND corrected_on IS NOT NULL",
        gsrn,
    )
    return {r["local_date"] for r in rows}
