"""SQL for inbound_messages."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def receive(conn: asyncpg.Connection, message_id: str, category: str, raw: bytes) -> bool:
    """Keep a message as DataHub served it, to be parsed; False when its id is already stored
    (a duplicate delivery). Its ``arrival`` number orders it after its category's earlier ones."""
    inserted = await conn.fetchval(
        """INSERT INTO inbound_messages (message_id, category, raw, status)
           VALUES ($1, $2, $3, 'received')
           ON CONFLICT (message_id) DO NOTHING RETURNING true""",
        message_id,
        category,
        raw,
    )
    return bool(inserted)


_RECEIVED = "SELECT message_id, category, arrival, raw, raw_lzma FROM inbound_messages"


async def claim_next(conn: asyncpg.Connection) -> asyncpg.Record | None:
    """The earliest received message no other transaction holds, locked until this one ends."""
    row: asyncpg.Record | None = await conn.fetchrow(
        _RECEIVED + " WHERE status = 'received' ORDER BY arrival LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    return row


async def lock_earlier(
    conn: asyncpg.Connection, category: str, arrival: int
) -> list[asyncpg.Record]:
    """The messages of *category* before *arrival* still received, locked, earliest first.

    Waits for each one another transaction holds: that one ends parsed (and drops out) or
    rolled back (its worker died: the message is this transaction's now). Rows are locked
    latest first, so a waiting transaction holds only messages after the one it waits for
    and two waits never close a circle.
    """
    rows = await conn.fetch(
        _RECEIVED + " WHERE status = 'received' AND category = $1 AND arrival < $2"
        " ORDER BY arrival DESC FOR UPDATE",
        category,
        arrival,
    )
    return list(reversed(rows))


async def settle(
    conn: asyncpg.Connection,
    message_id: str,
    status: str,
    document_type: str | None,
    reason: str | None,
    events: int,
) -> None:
    """Record what a received message became (stored, or dead-lettered with its reason)."""
    await conn.execute(
        """UPDATE inbound_messages SET status = $2, document_type = $3, reason = $4,
               events = $5, updated_at = now() WHERE message_id = $1""",
        message_id,
        status,
        document_type,
        reason,
        events,
    )


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
        "SELECT message_id, category, raw, raw_lzma, reason FROM inbound_messages "
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


async def plain_before(
    conn: asyncpg.Connection, before: datetime, limit: int
) -> list[asyncpg.Record]:
    """Up to *limit* messages received before *before* whose body is not compressed yet, locked
    (rows another pass holds are skipped). Dead letters stay plain: they wait for a retry;
    so does a message not parsed yet."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT message_id, raw FROM inbound_messages
           WHERE raw IS NOT NULL AND received_at < $1 AND status IN ('stored', 'retried')
           ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
        before,
        limit,
    )
    return rows


async def store_packed(conn: asyncpg.Connection, packed: list[tuple[str, bytes]]) -> None:
    """Keep each ``(message_id, compressed body)`` instead of the plain body."""
    await conn.execute(
        """UPDATE inbound_messages m SET raw = NULL, raw_lzma = p.body, compressed_at = now()
           FROM unnest($1::text[], $2::bytea[]) AS p(message_id, body)
           WHERE m.message_id = p.message_id""",
        [m for m, _ in packed],
        [b for _, b in packed],
    )


async def delete_before(conn: asyncpg.Connection, before: datetime, limit: int) -> int:
    """Delete up to *limit* messages received before *before* (dead letters are kept, and
    so is a message not parsed yet)."""
    deleted = await conn.fetchval(
        """WITH gone AS (
               DELETE FROM inbound_messages WHERE message_id IN (
                   SELECT message_id FROM inbound_messages
                   WHERE received_at < $1 AND status IN ('stored', 'retried')
                   ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)
               RETURNING 1)
           SELECT count(*) FROM gone""",
        before,
        limit,
    )
    return int(deleted)


async def get_body(conn: asyncpg.Connection, message_id: str) -> asyncpg.Record | None:
    """A stored message's body columns (plain ``raw`` or compressed ``raw_lzma``)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT message_id, category, raw, raw_lzma FROM inbound_messages WHERE message_id = $1",
        message_id,
    )
    return row


async def get_outcome(conn: asyncpg.Connection, message_id: str) -> asyncpg.Record:
    """A stored message's status, events and reason."""
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT status, events, reason FROM inbound_messages WHERE message_id = $1", message_id
    )
    return row
