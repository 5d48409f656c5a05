"""What the settlement API reads: runs, their settlements and blocked items, a metering
point's settlements and corrections, and the export of what is not yet invoiced.

Pages are ``LIMIT``/``OFFSET`` of an order that is total (ties broken by the id), so a page
never repeats or skips a row of an unchanged table.
"""

from __future__ import annotations

import uuid

import asyncpg

# A run matches a filter left NULL.
_RUN_FILTER = """WHERE ($1::text IS NULL OR billing_period = $1)
                   AND ($2::text IS NULL OR grid_area = $2)
                   AND ($3::text IS NULL OR status = $3)"""


async def run(conn: asyncpg.Connection, run_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM settlement_run WHERE run_id = $1", run_id
    )
    return row


async def run_exists(conn: asyncpg.Connection, run_id: uuid.UUID) -> bool:
    found = await conn.fetchval("SELECT 1 FROM settlement_run WHERE run_id = $1", run_id)
    return found is not None


async def runs(
    conn: asyncpg.Connection,
    period: str | None,
    grid_area: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[asyncpg.Record]]:
    """How many runs match the filters (``None``: any), and a page of them, newest first."""
    total: int = await conn.fetchval(
        f"SELECT count(*) FROM settlement_run {_RUN_FILTER}", period, grid_area, status
    )
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""SELECT * FROM settlement_run {_RUN_FILTER}
            ORDER BY requested_at DESC LIMIT $4 OFFSET $5""",
        period,
        grid_area,
        status,
        limit,
        offset,
    )
    return total, rows


async def blocked(conn: asyncpg.Connection, run_id: uuid.UUID) -> list[asyncpg.Record]:
    """What *run_id* could not settle (``gsrn``, ``reason``), the first 100 by GSRN."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT gsrn, reason FROM settlement_blocked WHERE run_id = $1 ORDER BY gsrn LIMIT 100",
        run_id,
    )
    return rows


async def settlements_of_run(
    conn: asyncpg.Connection, run_id: uuid.UUID, limit: int, offset: int
) -> tuple[int, list[asyncpg.Record]]:
    """How many settlements *run_id* made, and a page of them by GSRN and period."""
    total: int = await conn.fetchval("SELECT count(*) FROM settlement WHERE run_id = $1", run_id)
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM settlement WHERE run_id = $1 ORDER BY gsrn, period_start
           LIMIT $2 OFFSET $3""",
        run_id,
        limit,
        offset,
    )
    return total, rows


async def settlements_of_metering_point(
    conn: asyncpg.Connection, gsrn: str
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """*gsrn*'s settlements by period, and the corrections of them in the order they were made."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM settlement WHERE gsrn = $1 ORDER BY period_start", gsrn
    )
    corrections: list[asyncpg.Record] = await conn.fetch(
        """SELECT c.* FROM settlement_correction c JOIN settlement s USING (settlement_id)
           WHERE s.gsrn = $1 ORDER BY c.created_at""",
        gsrn,
    )
    return rows, corrections


async def uninvoiced(
    conn: asyncpg.Connection, limit: int, offset: int
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """A page of the settlements and a page of the corrections not marked invoiced, oldest
    first (each paged on its own).

    A correction that changes no line's amount (money moved between two charges of a line)
    is nothing to invoice: invoicing bills nothing for it, so it would never be marked and
    would stay here for ever."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM settlement WHERE invoiced_at IS NULL
           ORDER BY created_at, settlement_id LIMIT $1 OFFSET $2""",
        limit,
        offset,
    )
    corrections: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM settlement_correction c WHERE invoiced_at IS NULL
             AND EXISTS (SELECT 1 FROM jsonb_array_elements(c.lines) l
                         WHERE (l->>'amount')::numeric <> 0)
           ORDER BY created_at, correction_id LIMIT $1 OFFSET $2""",
        limit,
        offset,
    )
    return rows, corrections


async def corrections(
    conn: asyncpg.Connection, invoiced: bool | None, limit: int, offset: int
) -> list[asyncpg.Record]:
    """A page of corrections, oldest first: invoiced ones, not invoiced ones or (``None``) all."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM settlement_correction
           WHERE $1::boolean IS NULL OR (invoiced_at IS NOT NULL) = $1
           ORDER BY created_at, correction_id LIMIT $2 OFFSET $3""",
        invoiced,
        limit,
        offset,
    )
    return rows
