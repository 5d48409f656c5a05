"""SQL for parties, signups, processes (with their timeline), supply periods and contracts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from wattline_portfolio.domain.process import FINAL, Process, Step

# -- parties (customers and payers) -----------------------------------------------------------


async def upsert_party(
    conn: asyncpg.Connection,
    *,
    role: str,
    contact_type: str,
    cpr_cvr_index: str,
    cpr_cvr_masked: str,
    name_index: str,
    email_index: str | None,
    sealed: str,
    overwrite: bool,
) -> str:
    """The party with this CPR/CVR in *role*: created, and given these contact details when new
    or when *overwrite* (a confirmed activation; a mere signup never changes a customer)."""
    party_id = await conn.fetchval(
        """INSERT INTO party (party_id, role, contact_type, cpr_cvr_index, cpr_cvr_masked,
               name_index, email_index, sealed)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (role, cpr_cvr_index) DO UPDATE SET
               name_index = CASE WHEN $9 THEN EXCLUDED.name_index ELSE party.name_index END,
               email_index = CASE WHEN $9 THEN EXCLUDED.email_index ELSE party.email_index END,
               sealed = CASE WHEN $9 THEN EXCLUDED.sealed ELSE party.sealed END,
               updated_at = CASE WHEN $9 THEN now() ELSE party.updated_at END
           RETURNING party_id""",
        uuid.uuid4(),
        role,
        contact_type,
        cpr_cvr_index,
        cpr_cvr_masked,
        name_index,
        email_index,
        sealed,
        overwrite,
    )
    return str(party_id)


async def party(conn: asyncpg.Connection, party_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM party WHERE party_id = $1::uuid", party_id)


# -- processes --------------------------------------------------------------------------------


def to_domain(row: asyncpg.Record) -> Process:
    return Process(
        row["kind"],
        row["effective_date"],
        row["status"],
        row["raised_at"] is not None,
        row["status_before_cancel"],
    )


async def insert_process(
    conn: asyncpg.Connection,
    *,
    process_id: uuid.UUID,
    kind: str,
    gsrn: str,
    effective_date: date,
    transaction_id: str,
    send_after: datetime,
    signup_id: str | None = None,
    supply_period_id: str | None = None,
    customer_id: str | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO process (process_id, kind, gsrn, effective_date, status, signup_id,
               supply_period_id, customer_id, request_id, transaction_id, send_after)
           VALUES ($1, $2, $3, $4, 'pending', $5, $6::uuid, $7::uuid, $8, $9, $10)""",
        process_id,
        kind,
        gsrn,
        effective_date,
        signup_id,
        supply_period_id,
        customer_id,
        str(process_id),
        transaction_id,
        send_after,
    )


async def process_by(
    conn: asyncpg.Connection, column: str, value: Any, *, for_update: bool = True
) -> asyncpg.Record | None:
    """The process whose *column* (a fixed identifier column) equals *value*."""
    assert column in {
        "process_id",
        "request_id",
        "transaction_id",
        "cancel_request_id",
        "cancel_transaction_id",
    }
    return await conn.fetchrow(
        f"SELECT * FROM process WHERE {column} = $1" + (" FOR UPDATE" if for_update else ""),
        value,
    )


async def open_process(
    conn: asyncpg.Connection, gsrn: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM process WHERE gsrn = $1 AND NOT (status = ANY($2::text[]))"
        + (" FOR UPDATE" if for_update else ""),
        gsrn,
        list(FINAL),
    )


async def save_process(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    process: Process,
    steps: Sequence[Step],
    source: str,
    *,
    reasons: Sequence[str] = (),
    datahub_reference: str | None = None,
) -> None:
    """Store *process*'s new state and append *steps* to its timeline."""
    await conn.execute(
        """UPDATE process SET status = $2, status_before_cancel = $3,
               raised_at = CASE WHEN $4 THEN coalesce(raised_at, now()) ELSE raised_at END,
               reasons = reasons || $5::text[],
               datahub_reference = coalesce(datahub_reference, $6), updated_at = now()
           WHERE process_id = $1""",
        row["process_id"],
        process.status,
        process.status_before_cancel,
        process.raised,
        list(reasons),
        datahub_reference,
    )
    await add_timeline(conn, row["process_id"], steps, source)


async def add_timeline(
    conn: asyncpg.Connection, process_id: uuid.UUID, steps: Sequence[Step], source: str
) -> None:
    if steps:
        await conn.executemany(
            "INSERT INTO process_event (process_id, status, source, detail) VALUES ($1,$2,$3,$4)",
            [(process_id, s.status, source, s.detail) for s in steps],
        )


async def process_status(conn: asyncpg.Connection, process_id: uuid.UUID) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT status FROM process WHERE process_id = $1", process_id
    )
    return found


async def set_cancel_request(
    conn: asyncpg.Connection, process_id: uuid.UUID, request_id: str, transaction_id: str
) -> None:
    await conn.execute(
        """UPDATE process SET cancel_request_id = $2, cancel_transaction_id = $3
           WHERE process_id = $1""",
        process_id,
        request_id,
        transaction_id,
    )


async def due_to_raise(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Pending processes whose hold is over, locked for this transaction (others skip them)."""
    return list(
        await conn.fetch(
            """SELECT * FROM process WHERE raised_at IS NULL AND status = 'pending'
                 AND send_after <= now() ORDER BY send_after LIMIT $1 FOR UPDATE SKIP LOCKED""",
            limit,
        )
    )


async def due_endings(conn: asyncpg.Connection, today: date, limit: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT * FROM process WHERE status = 'effectuation_pending'
                 AND kind IN ('BRS-002', 'BRS-010') AND effective_date <= $1
               ORDER BY effective_date LIMIT $2 FOR UPDATE SKIP LOCKED""",
            today,
            limit,
        )
    )


async def timeline(conn: asyncpg.Connection, process_ids: Sequence[uuid.UUID]) -> list[Any]:
    return list(
        await conn.fetch(
            """SELECT e.*, p.kind FROM process_event e JOIN process p USING (process_id)
               WHERE e.process_id = ANY($1::uuid[]) ORDER BY e.id""",
            list(process_ids),
        )
    )


# -- signups ----------------------------------------------------------------------------------


async def next_signup_id(conn: asyncpg.Connection, year: int) -> str:
    number = await conn.fetchval("SELECT nextval('signup_number')")
    return f"SGN-{year}-{number:05d}"


async def insert_signup(conn: asyncpg.Connection, **values: Any) -> None:
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    await conn.execute(f"INSERT INTO signup ({columns}) VALUES ({params})", *values.values())


async def signup(
    conn: asyncpg.Connection,
    signup_id: str,
    *,
    for_update: bool = False,
    seen_by: str | None = None,
) -> asyncpg.Record | None:
    """The signup *signup_id*; with *seen_by* (a sales channel), only if that channel made it:
    another channel's signup is as absent as one that does not exist."""
    return await conn.fetchrow(
        "SELECT * FROM signup WHERE signup_id = $1 AND ($2::text IS NULL OR channel = $2)"
        + (" FOR UPDATE" if for_update else ""),
        signup_id,
        seen_by,
    )


async def signup_status(conn: asyncpg.Connection, signup_id: str) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT status FROM signup WHERE signup_id = $1", signup_id
    )
    return found


async def is_move_in(conn: asyncpg.Connection, signup_id: str | None) -> bool | None:
    """Whether the signup *signup_id* is a move-in (None: no such signup)."""
    found: bool | None = await conn.fetchval(
        "SELECT type = 'move_in' FROM signup WHERE signup_id = $1", signup_id
    )
    return found


async def signup_by_key(
    conn: asyncpg.Connection, key: str, channel: str | None
) -> asyncpg.Record | None:
    """The signup *channel* (None: back office) made with Idempotency-Key *key*."""
    return await conn.fetchrow(
        "SELECT * FROM signup WHERE idempotency_key = $1 AND channel IS NOT DISTINCT FROM $2",
        key,
        channel,
    )


async def sync_signup(
    conn: asyncpg.Connection, signup_id: str, status: str, rejection_reason: str | None
) -> bool:
    """The signup's external status (whether it changed)."""
    done = await conn.execute(
        """UPDATE signup SET status = $2, rejection_reason = coalesce($3, rejection_reason),
               updated_at = now() WHERE signup_id = $1 AND status <> $2""",
        signup_id,
        status,
        rejection_reason,
    )
    return bool(done.endswith(" 1"))


async def end_signup(conn: asyncpg.Connection, signup_id: str, reason: str, end_date: date) -> None:
    """The signup's supply ended (or ends) on *end_date* (exclusive), for *reason*."""
    await conn.execute(
        """UPDATE signup SET status = 'ended', end_reason = $2, end_date = $3, updated_at = now()
           WHERE signup_id = $1""",
        signup_id,
        reason,
        end_date,
    )


async def reopen_signup(conn: asyncpg.Connection, signup_id: str) -> None:
    """The end of the signup's supply was undone (our BRS-003): it is active again."""
    await conn.execute(
        """UPDATE signup SET status = 'active', end_reason = NULL, end_date = NULL,
               updated_at = now() WHERE signup_id = $1 AND status = 'ended'""",
        signup_id,
    )


# -- supply periods and contracts -------------------------------------------------------------


async def insert_supply_period(
    conn: asyncpg.Connection,
    *,
    gsrn: str,
    customer_id: str,
    start_date: date,
    signup_id: str | None,
) -> str:
    period_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO supply_period (supply_period_id, gsrn, customer_id, start_date, status,
               signup_id) VALUES ($1, $2, $3::uuid, $4, 'active', $5)""",
        period_id,
        gsrn,
        customer_id,
        start_date,
        signup_id,
    )
    return str(period_id)


async def supply_period(
    conn: asyncpg.Connection, period_id: Any, *, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM supply_period WHERE supply_period_id = $1::uuid"
        + (" FOR UPDATE" if for_update else ""),
        period_id,
    )


async def period_ended_on(
    conn: asyncpg.Connection, gsrn: str, end_date: date, *, other_than: Any
) -> asyncpg.Record | None:
    """Our supply period of *gsrn* (not *other_than*) that ended on *end_date*, locked."""
    return await conn.fetchrow(
        """SELECT * FROM supply_period WHERE gsrn = $1 AND status = 'ended' AND end_date = $2
           AND supply_period_id <> $3 FOR UPDATE""",
        gsrn,
        end_date,
        other_than,
    )


async def period_starting(
    conn: asyncpg.Connection, gsrn: str, start_date: date
) -> asyncpg.Record | None:
    """Our supply period of *gsrn* (not rolled back) that starts on *start_date*, locked."""
    return await conn.fetchrow(
        """SELECT * FROM supply_period WHERE gsrn = $1 AND status <> 'rolled_back'
           AND start_date = $2 FOR UPDATE""",
        gsrn,
        start_date,
    )


async def lock_period_of_contract(conn: asyncpg.Connection, contract_id: str) -> None:
    """Lock the supply period of *contract_id* (the period before its contracts: the order
    supply changes lock them in)."""
    await conn.execute(
        """SELECT 1 FROM supply_period WHERE supply_period_id =
               (SELECT supply_period_id FROM contract WHERE contract_id = $1::uuid)
           FOR UPDATE""",
        contract_id,
    )


async def current_period(
    conn: asyncpg.Connection, gsrn: str, *, for_update: bool = True
) -> asyncpg.Record | None:
    """Our open (not yet ended) supply period of *gsrn*."""
    return await conn.fetchrow(
        "SELECT * FROM supply_period WHERE gsrn = $1 AND status = 'active' AND end_date IS NULL"
        + (" FOR UPDATE" if for_update else ""),
        gsrn,
    )


async def supplying_period(conn: asyncpg.Connection, gsrn: str, day: date) -> asyncpg.Record | None:
    """Our supply period of *gsrn* that covers *day* or starts after it (active or ended, not
    rolled back; ``end_date`` is exclusive)."""
    return await conn.fetchrow(
        """SELECT * FROM supply_period WHERE gsrn = $1 AND status <> 'rolled_back'
             AND (end_date IS NULL OR end_date > $2)
           ORDER BY start_date DESC LIMIT 1""",
        gsrn,
        day,
    )


async def lock_gsrn(conn: asyncpg.Connection, gsrn: str) -> None:
    """Serialise, until the transaction ends, everything that starts a supply or a process on
    *gsrn* (a signup, a row of an import): each checks what is there, then adds to it."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('portfolio.gsrn'), hashtext($1))", gsrn
    )


async def latest_period(conn: asyncpg.Connection, gsrn: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT * FROM supply_period WHERE gsrn = $1
           ORDER BY start_date DESC, created_at DESC LIMIT 1 FOR UPDATE""",
        gsrn,
    )


async def update_period(conn: asyncpg.Connection, period_id: Any, **values: Any) -> asyncpg.Record:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=2))
    row = await conn.fetchrow(
        f"UPDATE supply_period SET {sets}, updated_at = now() WHERE supply_period_id = $1 "
        "RETURNING *",
        period_id,
        *values.values(),
    )
    assert row is not None
    return row


async def insert_contract(
    conn: asyncpg.Connection,
    *,
    supply_period_id: str,
    gsrn: str,
    customer_id: str,
    payer_id: str | None,
    product_id: str,
    product_version: int,
    start_date: date,
    billing_frequency: str,
    payment_model: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO contract (contract_id, supply_period_id, gsrn, customer_id, payer_id,
               product_id, product_version, start_date, billing_frequency, payment_model)
           VALUES ($1, $2::uuid, $3, $4::uuid, $5::uuid, $6::uuid, $7, $8, $9, $10)
           RETURNING *""",
        uuid.uuid4(),
        supply_period_id,
        gsrn,
        customer_id,
        payer_id,
        product_id,
        product_version,
        start_date,
        billing_frequency,
        payment_model,
    )
    assert row is not None
    return row


async def contracts_of_period(conn: asyncpg.Connection, period_id: Any) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM contract WHERE supply_period_id = $1 ORDER BY start_date FOR UPDATE",
            period_id,
        )
    )


async def contract(
    conn: asyncpg.Connection, contract_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM contract WHERE contract_id = $1::uuid"
        + (" FOR UPDATE" if for_update else ""),
        contract_id,
    )


async def update_contract(
    conn: asyncpg.Connection, contract_id: Any, **values: Any
) -> asyncpg.Record:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=2))
    row = await conn.fetchrow(
        f"UPDATE contract SET {sets}, updated_at = now() WHERE contract_id = $1 RETURNING *",
        contract_id,
        *values.values(),
    )
    assert row is not None
    return row
