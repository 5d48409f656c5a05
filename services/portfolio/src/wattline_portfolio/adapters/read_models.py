"""SQL of what back office and sales channels read: signups, customers, processes and what is
at an address. Rows only; ``handlers.queries`` shapes them (and opens the sealed data)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

_SIGNUPS = """SELECT s.*, c.sealed AS customer_sealed FROM signup s
              JOIN party c ON c.party_id = s.customer_id"""


def _signup_filter(
    status: str | None, search: str | None, indexes: list[str], seen_by: str | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if seen_by is not None:
        args.append(seen_by)
        clauses.append(f"s.channel = ${len(args)}")
    if status:
        args.append(status)
        clauses.append(f"s.status = ${len(args)}")
    if search:
        term = search.strip()
        args += [term.upper(), term, indexes]
        n = len(args)
        clauses.append(
            f"(s.signup_id = ${n - 2} OR s.gsrn = ${n - 1} OR c.cpr_cvr_index = ANY(${n}) "
            f"OR c.name_index = ANY(${n}) OR c.email_index = ANY(${n}))"
        )
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


async def signups(
    conn: asyncpg.Connection,
    *,
    status: str | None,
    search: str | None,
    indexes: list[str],
    seen_by: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[asyncpg.Record]]:
    """(how many match, a page of them newest first), each with its customer's sealed data:
    by status, and a search term matching a signup id, a GSRN or one of the blind *indexes*
    (of a CPR/CVR number, name or e-mail). *seen_by*: only that sales channel's."""
    where, args = _signup_filter(status, search, indexes, seen_by)
    total = await conn.fetchval(
        f"SELECT count(*) FROM signup s JOIN party c ON c.party_id = s.customer_id {where}", *args
    )
    rows = await conn.fetch(
        f"{_SIGNUPS} {where} ORDER BY s.created_at DESC, s.signup_id DESC "
        f"LIMIT {limit} OFFSET {offset}",
        *args,
    )
    return total, list(rows)


async def signup(
    conn: asyncpg.Connection, signup_id: str, seen_by: str | None
) -> asyncpg.Record | None:
    """The signup with its customer's sealed data (*seen_by*: only if that channel's)."""
    return await conn.fetchrow(
        f"{_SIGNUPS} WHERE s.signup_id = $1 AND ($2::text IS NULL OR s.channel = $2)",
        signup_id,
        seen_by,
    )


async def resubmitted_as(conn: asyncpg.Connection, signup_id: str) -> str | None:
    """The signup that re-submitted *signup_id*, if any."""
    found: str | None = await conn.fetchval(
        "SELECT signup_id FROM signup WHERE resubmission_of = $1", signup_id
    )
    return found


async def customers(
    conn: asyncpg.Connection, *, indexes: list[str] | None, limit: int, offset: int
) -> tuple[int, list[asyncpg.Record]]:
    """(how many, a page newest first) of the customers, with whether we supply them now;
    *indexes*: only those whose CPR/CVR number, name or e-mail has one of these blind
    indexes."""
    args: list[Any] = []
    where = "WHERE p.role = 'customer'"
    if indexes is not None:
        args.append(indexes)
        where += (
            " AND (p.cpr_cvr_index = ANY($1) OR p.name_index = ANY($1) OR p.email_index = ANY($1))"
        )
    total = await conn.fetchval(f"SELECT count(*) FROM party p {where}", *args)
    rows = await conn.fetch(
        f"""SELECT p.*, EXISTS (SELECT 1 FROM supply_period sp WHERE sp.customer_id = p.party_id
                 AND sp.status = 'active' AND sp.end_date IS NULL) AS supplied
            FROM party p {where} ORDER BY p.created_at DESC LIMIT {limit} OFFSET {offset}""",
        *args,
    )
    return total, list(rows)


async def customer(conn: asyncpg.Connection, customer_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM party WHERE party_id = $1 AND role = 'customer'", customer_id
    )


async def signups_of(conn: asyncpg.Connection, customer_id: uuid.UUID) -> list[asyncpg.Record]:
    """The customer's signups, newest first, each with its customer's sealed data."""
    return list(
        await conn.fetch(
            f"{_SIGNUPS} WHERE s.customer_id = $1 ORDER BY s.created_at DESC", customer_id
        )
    )


async def periods_of(conn: asyncpg.Connection, customer_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM supply_period WHERE customer_id = $1 ORDER BY start_date", customer_id
        )
    )


async def contracts_of(conn: asyncpg.Connection, customer_id: uuid.UUID) -> list[asyncpg.Record]:
    """The customer's contracts, each with its product's name."""
    return list(
        await conn.fetch(
            """SELECT c.*, p.name AS product_name FROM contract c JOIN product p USING (product_id)
               WHERE c.customer_id = $1 ORDER BY c.start_date""",
            customer_id,
        )
    )


async def metering_points(conn: asyncpg.Connection, gsrns: list[str]) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM metering_points WHERE gsrn = ANY($1)", gsrns))


async def processes(
    conn: asyncpg.Connection, *, gsrn: str | None, status: str | None, limit: int, offset: int
) -> list[asyncpg.Record]:
    """A page of the processes, newest first, by metering point and status."""
    clauses, args = [], []
    for column, value in (("gsrn", gsrn), ("status", status)):
        if value is not None:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    return list(
        await conn.fetch(
            f"SELECT * FROM process {where} ORDER BY created_at DESC LIMIT {limit} OFFSET {offset}",
            *args,
        )
    )


async def supplied(conn: asyncpg.Connection, gsrns: list[str]) -> set[str]:
    """Those of *gsrns* we supply now."""
    return {
        r["gsrn"]
        for r in await conn.fetch(
            """SELECT gsrn FROM supply_period WHERE gsrn = ANY($1) AND status = 'active'
               AND end_date IS NULL""",
            gsrns,
        )
    }


async def open_processes(conn: asyncpg.Connection, gsrns: list[str]) -> dict[str, asyncpg.Record]:
    """The open process on each of *gsrns* that has one."""
    return {
        r["gsrn"]: r
        for r in await conn.fetch(
            """SELECT gsrn, process_id, kind, status, signup_id FROM process WHERE gsrn = ANY($1)
               AND status NOT IN ('completed', 'rejected', 'cancelled')""",
            gsrns,
        )
    }
