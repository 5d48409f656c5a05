"""SQL for inbound_messages."""

from __future__ import annotations

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    message_id: str,
    category: str,
    document_type: str | None,
    raw: bytes,
    status: str,
    reason: str | None,
    events: int,
) -> bool:
    """Store a message; False when its id is already stored (a duplicate delivery)."""
    inserted = await conn.fetchval(
        """INSERT INTO inbound_messages
               (message_id, category, document_type, raw, status, reason, events)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (message_id) DO NOTHING RETURNING true""",
        message_id,
        category,
        document_type,
        raw,
        status,
        reason,
        events,
    )
    return bool(inserted)


async def dead_letters(conn: asyncpg.Connection, limit: int, offset: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT message_id, category, reason, received_at, length(raw) AS size
           FROM inbound_messages WHERE status = 'dead_lettered'
           ORDER BY received_at DESC, message_id LIMIT $1 OFFSET $2""",
        limit,
        offset,
    )
    return rows


async def get_dead_letter(
    conn: asyncpg.Connection, message_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT message_id, category, raw, reason FROM inbound_messages "
        "WHERE message_id = $1 AND status = 'dead_lettered'"
        + (" FOR UPDATE" if for_update else ""),
        message_id,
    )
    return row


async def set_reason(conn: asyncpg.Connection, message_id: str, reason: str) -> None:
    await conn.execute(
        "UPDATE inbound_messages SET reason = $2, updated_at = now() WHERE message_id = $1",
        message_id,
        reason,
    )


async def mark_retried(
    conn: asyncpg.Connection, message_id: str, document_type: str | None, events: int
) -> None:
    await conn.execute(
        """UPDATE inbound_messages SET status = 'retried', document_type = $2, events = $3,
               reason = NULL, updated_at = now() WHERE message_id = $1""",
        message_id,
        document_type,
        events,
    )


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT status, count(*) AS n FROM inbound_messages GROUP BY status")
    return {r["status"]: r["n"] for r in rows}
