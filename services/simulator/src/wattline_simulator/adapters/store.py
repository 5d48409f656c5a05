"""SQL for the simulator's queues, logs, faults and clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from wattline_cim import CimDocument, build_document, dumps

from wattline_simulator.domain.faults import Fault


async def enqueue(
    conn: asyncpg.Connection,
    category: str,
    document_type: str,
    body: bytes,
    message_id: str | None = None,
    fault: str | None = None,
) -> str:
    message_id = message_id or str(uuid.uuid4())
    await conn.execute(
        """INSERT INTO queue (message_id, category, document_type, body, fault)
           VALUES ($1, $2, $3, $4, $5)""",
        message_id,
        category,
        document_type,
        body,
        fault,
    )
    return message_id


async def enqueue_document(
    conn: asyncpg.Connection, category: str, document_type: str, document: CimDocument
) -> None:
    """Queue one CIM document, serialised as DataHub sends it, under its own message id."""
    body = dumps(build_document(document))
    await enqueue(conn, category, document_type, body, document.message_id)


async def enqueue_many(conn: asyncpg.Connection, rows: list[tuple[str, str, str, bytes]]) -> None:
    """Bulk-queue ``(message_id, category, document_type, body)`` rows with COPY."""
    await conn.copy_records_to_table(
        "queue", records=rows, columns=["message_id", "category", "document_type", "body"]
    )


async def enqueue_rows(
    conn: asyncpg.Connection, rows: list[tuple[str, str, str, bytes, str | None]]
) -> None:
    """Bulk-queue ``(message_id, category, document_type, body, fault)`` rows with COPY."""
    await conn.copy_records_to_table(
        "queue",
        records=rows,
        columns=["message_id", "category", "document_type", "body", "fault"],
    )


async def peek(conn: asyncpg.Connection, category: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT message_id, document_type, body, fault FROM queue
           WHERE category = $1 AND dequeued_at IS NULL ORDER BY seq LIMIT 1""",
        category,
    )
    return row


async def dequeue(conn: asyncpg.Connection, message_id: str) -> asyncpg.Record | None:
    """Remove the oldest pending copy of *message_id*; return it (None if there was none)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE queue SET dequeued_at = now() WHERE seq = (
               SELECT seq FROM queue WHERE message_id = $1 AND dequeued_at IS NULL
               ORDER BY seq LIMIT 1)
           RETURNING message_id, category, document_type, body, fault""",
        message_id,
    )
    return row


async def depth(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT category, count(*) AS n FROM queue WHERE dequeued_at IS NULL GROUP BY category"
    )
    return {r["category"]: r["n"] for r in rows}


async def log_served(
    conn: asyncpg.Connection, category: str, status: int, message_id: str | None, fault: str | None
) -> None:
    await conn.execute(
        "INSERT INTO served (message_id, category, status, fault) VALUES ($1, $2, $3, $4)",
        message_id,
        category,
        status,
        fault,
    )


async def served_log(conn: asyncpg.Connection, since_id: int = 0) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT id, message_id, category, status, fault, served_at FROM served
           WHERE id > $1 ORDER BY id""",
        since_id,
    )
    return rows


async def delete_served_before(conn: asyncpg.Connection, retention: timedelta, limit: int) -> int:
    """Delete at most *limit* served-log entries older than *retention*, oldest first."""
    status: str = await conn.execute(
        """DELETE FROM served WHERE id IN (
               SELECT id FROM served WHERE served_at < now() - $1::interval
               ORDER BY served_at LIMIT $2)""",
        retention,
        limit,
    )
    return int(status.split()[-1])


async def record_incoming(
    conn: asyncpg.Connection, document_type: str, body: bytes, accepted: bool, reason: str | None
) -> int:
    incoming_id: int = await conn.fetchval(
        """INSERT INTO incoming (document_type, body, accepted, reason)
           VALUES ($1, $2, $3, $4) RETURNING id""",
        document_type,
        body,
        accepted,
        reason,
    )
    return incoming_id


async def faults(conn: asyncpg.Connection) -> list[Fault]:
    rows = await conn.fetch(
        "SELECT category, kind, remaining, retry_after, delay_ms FROM faults WHERE remaining <> 0"
    )
    return [Fault(**dict(r)) for r in rows]


async def set_fault(conn: asyncpg.Connection, fault: Fault) -> None:
    await conn.execute(
        """INSERT INTO faults (category, kind, remaining, retry_after, delay_ms)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (category, kind) DO UPDATE SET remaining = EXCLUDED.remaining,
               retry_after = EXCLUDED.retry_after, delay_ms = EXCLUDED.delay_ms""",
        fault.category,
        fault.kind,
        fault.remaining,
        fault.retry_after,
        fault.delay_ms,
    )


async def consume_fault(conn: asyncpg.Connection, fault: Fault) -> None:
    """Count one use of a fault that is limited to N calls."""
    if fault.remaining > 0:
        await conn.execute(
            """UPDATE faults SET remaining = remaining - 1
               WHERE category = $1 AND kind = $2 AND remaining > 0""",
            fault.category,
            fault.kind,
        )


async def consume_fault_uses(conn: asyncpg.Connection, fault: Fault, uses: int) -> None:
    """Count *uses* uses of a fault limited to N (a generation fault breaking N documents)."""
    if fault.remaining > 0 and uses > 0:
        await conn.execute(
            """UPDATE faults SET remaining = greatest(remaining - $3, 0)
               WHERE category = $1 AND kind = $2 AND remaining > 0""",
            fault.category,
            fault.kind,
            uses,
        )


async def clear_faults(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM faults")


async def now(conn: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await conn.fetchval("SELECT now FROM clock")
    return value


async def set_now(conn: asyncpg.Connection, when: datetime) -> None:
    await conn.execute(
        """INSERT INTO clock (singleton, now) VALUES (true, $1)
           ON CONFLICT (singleton) DO UPDATE SET now = EXCLUDED.now""",
        when,
    )
