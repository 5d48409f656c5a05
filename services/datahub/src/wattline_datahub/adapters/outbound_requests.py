"""SQL for outbound_requests."""

from __future__ import annotations

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    request_id: str,
    kind: str,
    gsrn: str | None,
    document_type: str,
    document: bytes,
    transaction_id: str,
    state: str,
    last_error: str | None = None,
) -> bool:
    """Record a request once; False when this request id is already recorded."""
    inserted = await conn.fetchval(
        """INSERT INTO outbound_requests (request_id, kind, gsrn, document_type, document,
                                          transaction_id, state, last_error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (request_id) DO NOTHING RETURNING true""",
        request_id,
        kind,
        gsrn,
        document_type,
        document,
        transaction_id,
        state,
        last_error,
    )
    return bool(inserted)


async def pending(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT request_id, kind, gsrn, document_type, document, transaction_id
           FROM outbound_requests WHERE state = 'pending' ORDER BY created_at LIMIT $1""",
        limit,
    )
    return rows


async def finish(conn: asyncpg.Connection, request_id: str, state: str, error: str | None) -> bool:
    """Move a pending request to sent/failed; False if it was no longer pending."""
    status: str = await conn.execute(
        """UPDATE outbound_requests
           SET state = $2, last_error = $3, attempts = attempts + 1,
               sent_at = CASE WHEN $2 = 'sent' THEN now() END
           WHERE request_id = $1 AND state = 'pending'""",
        request_id,
        state,
        error,
    )
    return status.endswith(" 1")


async def count_attempt(conn: asyncpg.Connection, request_id: str, error: str) -> None:
    await conn.execute(
        "UPDATE outbound_requests SET attempts = attempts + 1, last_error = $2 "
        "WHERE request_id = $1",
        request_id,
        error,
    )


async def reject(conn: asyncpg.Connection, transaction_id: str, reason: str) -> str | None:
    """Close the sent request of *transaction_id* as rejected with *reason*; its request id,
    or None when no such request is open (unknown, or already answered)."""
    request_id: object = await conn.fetchval(
        """UPDATE outbound_requests
           SET state = 'rejected', last_error = $2, answered_at = now()
           WHERE transaction_id = $1 AND state IN ('pending', 'sent')
           RETURNING request_id""",
        transaction_id,
        reason,
    )
    return None if request_id is None else str(request_id)


async def get_by_transaction(
    conn: asyncpg.Connection, transaction_id: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT request_id, kind, state, last_error, answered_at FROM outbound_requests "
        "WHERE transaction_id = $1",
        transaction_id,
    )
    return row
