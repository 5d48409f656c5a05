"""SQL for settlement runs, settlements and corrections."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from wattline_settlement.domain.model import Line


def lines_json(lines: Sequence[Line]) -> list[dict[str, Any]]:
    """Lines as the jsonb document stored (the pool's codec encodes it)."""
    return list(
        [
            {
                "code": line.code,
                "quantity_kwh": None if line.quantity_kwh is None else str(line.quantity_kwh),
                "days": line.days,
                "amount": str(line.amount),
            }
            for line in lines
        ]
    )


def lines_from_json(text: str | list[Any]) -> tuple[Line, ...]:
    items = json.loads(text) if isinstance(text, str) else text
    return tuple(
        Line(
            item["code"],
            None if item["quantity_kwh"] is None else Decimal(item["quantity_kwh"]),
            item["days"],
            Decimal(item["amount"]),
        )
        for item in items
    )


async def create_run(
    conn: asyncpg.Connection, billing_period: str, grid_area: str | None, trigger: str
) -> uuid.UUID | None:
    """A queued run; None when the schedule already started this period's run."""
    run_id = uuid.uuid4()
    inserted = await conn.fetchval(
        """INSERT INTO settlement_run (run_id, billing_period, grid_area, trigger, status)
           VALUES ($1, $2, $3, $4, 'queued') ON CONFLICT DO NOTHING RETURNING run_id""",
        run_id,
        billing_period,
        grid_area,
        trigger,
    )
    return inserted if inserted is None else run_id


async def claim_run(conn: asyncpg.Connection, owner: str, lease_s: float) -> asyncpg.Record | None:
    """The oldest queued run, or a running one whose worker stopped renewing its lease."""
    return await conn.fetchrow(
        """UPDATE settlement_run SET status = 'running', lease_owner = $1,
               lease_until = now() + make_interval(secs => $2),
               started_at = coalesce(started_at, now())
           WHERE run_id = (
               SELECT run_id FROM settlement_run
               WHERE status = 'queued' OR (status = 'running' AND lease_until < now())
               ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING *""",
        owner,
        lease_s,
    )


async def progress(
    conn: asyncpg.Connection,
    run_id: uuid.UUID,
    owner: str,
    lease_s: float,
    *,
    total: int | None = None,
    done: int = 0,
    settled: int = 0,
    blocked: int = 0,
) -> bool:
    """Count progress and renew the lease; False if another worker took the run over."""
    status = await conn.execute(
        """UPDATE settlement_run SET total_items = coalesce($4, total_items),
               done_items = done_items + $5, settled_items = settled_items + $6,
               blocked_items = blocked_items + $7,
               lease_until = now() + make_interval(secs => $3)
           WHERE run_id = $1 AND lease_owner = $2 AND status = 'running'""",
        run_id,
        owner,
        lease_s,
        total,
        done,
        settled,
        blocked,
    )
    return bool(status.endswith(" 1"))


async def finish_run(
    conn: asyncpg.Connection, run_id: uuid.UUID, owner: str, status: str, reason: str | None
) -> bool:
    """Finish the run if *owner* still holds it (a worker that lost its lease finishes
    nothing: the run belongs to whoever took it over)."""
    done = await conn.execute(
        """UPDATE settlement_run SET status = $3, reason = $4, finished_at = now(),
               lease_owner = NULL, lease_until = NULL
           WHERE run_id = $1 AND lease_owner = $2 AND status = 'running'""",
        run_id,
        owner,
        status,
        reason,
    )
    return bool(done.endswith(" 1"))


async def reset_progress(conn: asyncpg.Connection, run_id: uuid.UUID) -> None:
    """A run taken over restarts its counts (what is settled stays settled)."""
    await conn.execute(
        """UPDATE settlement_run SET done_items = 0, settled_items = 0, blocked_items = 0
           WHERE run_id = $1""",
        run_id,
    )
    await conn.execute("DELETE FROM settlement_blocked WHERE run_id = $1", run_id)


async def settled_keys(
    conn: asyncpg.Connection, billing_period: str, supply_period_ids: Sequence[str]
) -> set[str]:
    rows = await conn.fetch(
        """SELECT supply_period_id FROM settlement WHERE billing_period = $1
           AND supply_period_id = ANY($2::uuid[])""",
        billing_period,
        list(supply_period_ids),
    )
    return {str(r["supply_period_id"]) for r in rows}


async def insert_settlements(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert settlements; one that exists already (a concurrent worker) is skipped.
    Returns how many were new (the caller publishes only those)."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if not c.startswith("_")]
    # One statement for the whole chunk: each column as an array, unnested in step (jsonb
    # documents travel as text: a list inside an array parameter would be a dimension).
    arrays = ", ".join(
        f"${i}::{'text' if _TYPES[c] == 'jsonb' else _TYPES[c]}[]"
        for i, c in enumerate(columns, start=1)
    )
    selected = ", ".join(f"{c}::jsonb" if _TYPES[c] == "jsonb" else c for c in columns)
    values = [
        [json.dumps(row[c]) if _TYPES[c] == "jsonb" else row[c] for row in rows] for c in columns
    ]
    new = {
        r["settlement_id"]
        for r in await conn.fetch(
            f"""INSERT INTO settlement ({", ".join(columns)})
                SELECT {selected} FROM unnest({arrays}) AS u({", ".join(columns)})
                ON CONFLICT (supply_period_id, billing_period) DO NOTHING
                RETURNING settlement_id""",
            *values,
        )
    }
    for row in rows:
        row["_new"] = row["settlement_id"] in new
    return len(new)


_TYPES = {
    "settlement_id": "uuid",
    "run_id": "uuid",
    "gsrn": "text",
    "customer_id": "uuid",
    "supply_period_id": "uuid",
    "billing_period": "text",
    "grid_area": "text",
    "price_area": "text",
    "period_start": "date",
    "period_end": "date",
    "consumption_kwh": "numeric",
    "lines": "jsonb",
    "subtotal": "numeric",
    "vat": "numeric",
    "total": "numeric",
    "current_start": "date",
    "current_end": "date",
    "current_lines": "jsonb",
    "current_subtotal": "numeric",
    "current_vat": "numeric",
    "current_total": "numeric",
    "current_consumption_kwh": "numeric",
    "data_id": "int8",
}


async def add_blocked(
    conn: asyncpg.Connection, run_id: uuid.UUID, items: Sequence[tuple[str, str, str]]
) -> None:
    await conn.executemany(
        """INSERT INTO settlement_blocked (run_id, gsrn, supply_period_id, reason)
           VALUES ($1, $2, $3::uuid, $4) ON CONFLICT DO NOTHING""",
        [(run_id, gsrn, sp, reason) for gsrn, sp, reason in items],
    )


async def queue_recheck(
    conn: asyncpg.Connection, gsrns: Sequence[str], reason: str, delay_s: float = 0
) -> None:
    """Queue rechecks. A recheck in progress deletes its row first, so a request made while
    it runs waits for it and is queued again afterwards, never lost."""
    await conn.executemany(
        """INSERT INTO settlement_recheck (gsrn, reason, queued_at)
           VALUES ($1, $2, now() + make_interval(secs => $3))
           ON CONFLICT (gsrn) DO UPDATE SET queued_at = least(settlement_recheck.queued_at,
                                                              EXCLUDED.queued_at)""",
        [(g, reason, delay_s) for g in sorted(set(gsrns))],
    )


async def claim_recheck(conn: asyncpg.Connection) -> asyncpg.Record | None:
    """Take the next due recheck off the queue (the delete commits with the recheck)."""
    return await conn.fetchrow(
        """DELETE FROM settlement_recheck WHERE gsrn = (
               SELECT gsrn FROM settlement_recheck WHERE queued_at <= now()
               ORDER BY queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING gsrn, reason"""
    )


async def watermark(conn: asyncpg.Connection, name: str) -> int:
    value = await conn.fetchval(
        "SELECT data_id FROM settlement_watermark WHERE name = $1 FOR UPDATE", name
    )
    if value is None:
        await conn.execute(
            "INSERT INTO settlement_watermark (name, data_id) VALUES ($1, 0) "
            "ON CONFLICT DO NOTHING",
            name,
        )
        return 0
    return int(value)


async def set_watermark(conn: asyncpg.Connection, name: str, data_id: int) -> None:
    await conn.execute(
        "UPDATE settlement_watermark SET data_id = greatest(data_id, $2) WHERE name = $1",
        name,
        data_id,
    )


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
