"""SQL for DataHub's market processes (RSM-001 / RSM-002) in the simulator."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from wattline_simulator.domain.processes import Completed


async def has_open(conn: asyncpg.Connection, gsrn: str) -> bool:
    """Whether a process is open on *gsrn*."""
    found = await conn.fetchval(
        "SELECT 1 FROM market_process WHERE gsrn = $1 AND state = 'open'", gsrn
    )
    return found is not None


async def last_completed(conn: asyncpg.Connection, gsrn: str) -> Completed | None:
    """The process completed last on *gsrn*, if any."""
    row = await conn.fetchrow(
        """SELECT process_type, supplier_gln, previous_supplier_gln, effective_start
           FROM market_process WHERE gsrn = $1 AND state = 'completed'
           ORDER BY completed_at DESC, received_at DESC LIMIT 1""",
        gsrn,
    )
    return Completed(**dict(row)) if row else None


async def add(
    conn: asyncpg.Connection,
    *,
    reference: str,
    process_type: str,
    gsrn: str,
    request_message_id: str,
    request_transaction_id: str,
    supplier_gln: str | None,
    effective_start: datetime,
    state: str,
    balance_responsible_gln: str | None = None,
    customer_key: str | None = None,
    reasons: list[str] | None = None,
) -> None:
    """Record a process as DataHub received it."""
    await conn.execute(
        """INSERT INTO market_process (process_reference, process_type, gsrn,
               request_message_id, request_transaction_id, supplier_gln,
               balance_responsible_gln, customer_key, effective_start, state, reasons)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11, '{}'::text[]))""",
        reference,
        process_type,
        gsrn,
        request_message_id,
        request_transaction_id,
        supplier_gln,
        balance_responsible_gln,
        customer_key,
        effective_start,
        state,
        reasons,
    )


async def by_request_transaction_for_update(
    conn: asyncpg.Connection, transaction_id: str
) -> asyncpg.Record | None:
    """The process a request's transaction id started, locked for the transaction."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM market_process WHERE request_transaction_id = $1 FOR UPDATE",
        transaction_id,
    )
    return row


async def cancel(conn: asyncpg.Connection, reference: str, now: datetime) -> None:
    """Mark the process *reference* cancelled at *now*."""
    await conn.execute(
        "UPDATE market_process SET state = 'cancelled', completed_at = $2 "
        "WHERE process_reference = $1",
        reference,
        now,
    )


async def open_due(conn: asyncpg.Connection, until: datetime) -> list[asyncpg.Record]:
    """Open processes effective at or before *until*, in the order they take effect."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM market_process WHERE state = 'open' AND effective_start <= $1
           ORDER BY effective_start, received_at""",
        until,
    )
    return rows


async def change_supplier(
    conn: asyncpg.Connection,
    gsrn: str,
    supplier_gln: str,
    supply_start: datetime,
    customer_key: str | None,
) -> None:
    """The metering point's new supplier from *supply_start* (its customer, if named)."""
    await conn.execute(
        """UPDATE metering_point SET supplier_gln = $2, supply_start = $3,
               customer_key = coalesce($4, customer_key) WHERE gsrn = $1""",
        gsrn,
        supplier_gln,
        supply_start,
        customer_key,
    )


async def complete(
    conn: asyncpg.Connection, reference: str, at: datetime, previous_supplier_gln: str | None
) -> None:
    """Mark the process *reference* completed at *at*."""
    await conn.execute(
        """UPDATE market_process SET state = 'completed', completed_at = $2,
               previous_supplier_gln = $3 WHERE process_reference = $1""",
        reference,
        at,
        previous_supplier_gln,
    )


async def all_processes(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every process, in the order DataHub received them."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM market_process ORDER BY received_at, gsrn"
    )
    return rows
