"""SQL for the audit trail (audit_log)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from wattline_gateway.domain.audit import AuditEntry


async def begin(
    conn: asyncpg.Connection,
    *,
    at: datetime,
    key_id: uuid.UUID,
    key_name: str,
    method: str,
    path: str,
    target: str | None,
    correlation_id: str,
) -> int:
    """Record a call about to be forwarded (outcome unknown); its id."""
    entry_id: int = await conn.fetchval(
        """INSERT INTO audit_log (at, key_id, key_name, method, path, target, correlation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        at,
        key_id,
        key_name,
        method,
        path,
        target,
        correlation_id,
    )
    return entry_id


async def finish(conn: asyncpg.Connection, entry_id: int, status: int) -> None:
    """Record the outcome of call *entry_id* (once: a recorded outcome is never changed)."""
    await conn.execute(
        "UPDATE audit_log SET status = $2 WHERE id = $1 AND status IS NULL", entry_id, status
    )


async def page(
    conn: asyncpg.Connection,
    *,
    limit: int,
    before_id: int | None = None,
    target: str | None = None,
    key_name: str | None = None,
    key_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Newest first: at most *limit* entries older than *before_id*, filtered by *target*
    (itself or anything under it), key, and ``since <= at < until``."""
    where: list[str] = []
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if before_id is not None:
        where.append(f"id < {arg(before_id)}")
    if target is not None:
        # Itself, or under it: 'X/...' sorts from 'X/' up to 'X0' ('0' follows '/') in byte
        # order, so the (target, id) index serves both.
        wanted = arg(target)
        where.append(
            f"(target = {wanted} OR (target >= {wanted} || '/' AND target < {wanted} || '0'))"
        )
    if key_name is not None:
        where.append(f"key_name = {arg(key_name)}")
    if key_id is not None:
        where.append(f"key_id = {arg(key_id)}")
    if since is not None:
        where.append(f"at >= {arg(since)}")
    if until is not None:
        where.append(f"at < {arg(until)}")
    rows = await conn.fetch(
        f"""SELECT id, at, key_id, key_name, method, path, target, correlation_id, status
            FROM audit_log {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY id DESC LIMIT {arg(limit)}""",
        *args,
    )
    return [
        AuditEntry(
            row["id"],
            row["at"],
            str(row["key_id"]),
            row["key_name"],
            row["method"],
            row["path"],
            row["target"],
            row["correlation_id"],
            row["status"],
        )
        for row in rows
    ]
