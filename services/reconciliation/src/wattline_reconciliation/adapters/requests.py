"""SQL for what became of reconciliation's requests to DataHub (data_requests' status)."""

from __future__ import annotations

import uuid

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
