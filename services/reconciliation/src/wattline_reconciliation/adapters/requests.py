"""SQL for reconciliation's requests to DataHub: what became of them (data_requests' status) and
the gaps waiting to be asked about."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg


async def set_transaction_id(tx: asyncpg.Connection, request_id: uuid.UUID, tid: str) -> None:
    """Record the transaction id DataHub's answers to *request_id* will refer to."""
    await tx.execute(
        "UPDATE data_requests SET transaction_id = $2 WHERE request_id = $1", request_id, tid
    )


async def lock_status(
    tx: asyncpg.Connection,
    *,
    request_id: uuid.UUID | None = None,
    transaction_id: str | None = None,
) -> asyncpg.Record | None:
    """The request (request_id, status) by either id, locked until *tx* ends; None: not ours."""
    row: asyncpg.Record | None = await tx.fetchrow(
        """SELECT request_id, status FROM data_requests
           WHERE request_id = $1 OR transaction_id = $2 FOR UPDATE""",
        request_id,
        transaction_id,
    )
    return row


async def set_status(
    tx: asyncpg.Connection, request_id: uuid.UUID, status: str, reason: str | None
) -> None:
    await tx.execute(
        """UPDATE data_requests SET status = $2, reason = $3, status_at = now()
           WHERE request_id = $1""",
        request_id,
        status,
        reason,
    )


async def get(db: asyncpg.Connection, request_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        """SELECT request_id, kind, grid_area, gsrn, metering_point_type, start_date, end_date,
                  automatic, requested_at, status, reason, status_at
           FROM data_requests WHERE request_id = $1""",
        request_id,
    )
    return row


# -- gaps: asked about only once they have stood for a while ----------------------------------
async def gap_seen(tx: asyncpg.Connection, grid_area: str, day: date) -> tuple[datetime, datetime]:
    """When a gap of *grid_area*'s *day* was first seen (now, if this is the first time), and
    the database's now."""
    row = await tx.fetchrow(
        """INSERT INTO gaps_seen (grid_area, local_date) VALUES ($1, $2)
           ON CONFLICT (grid_area, local_date)
           DO UPDATE SET first_seen_at = gaps_seen.first_seen_at
           RETURNING first_seen_at, now() AS now""",
        grid_area,
        day,
    )
    assert row is not None
    return row["first_seen_at"], row["now"]


async def forget_gap(tx: asyncpg.Connection, grid_area: str, day: date) -> None:
    """The day has no gap (any more): a later one waits its own time again."""
    await tx.execute(
        "DELETE FROM gaps_seen WHERE grid_area = $1 AND local_date = $2", grid_area, day
    )


async def defer(tx: asyncpg.Connection, grid_area: str, day: date, until: datetime) -> None:
    """Reconcile *grid_area*'s *day* again at *until* (sooner if new data marks it due)."""
    await tx.execute(
        """INSERT INTO pending_days (grid_area, local_date, not_before) VALUES ($1, $2, $3)
           ON CONFLICT (grid_area, local_date)
           DO UPDATE SET not_before = least(pending_days.not_before, EXCLUDED.not_before)""",
        grid_area,
        day,
        until,
    )
