"""SQL of the customer history (append-only: a trigger refuses updates and deletes)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from wattline_portfolio.domain.history import Entry


async def append(
    conn: asyncpg.Connection,
    customer_id: str,
    entry: Entry,
    *,
    performed_by: str,
    correlation_id: str | None,
    occurred_at: datetime | None = None,
    source_event_id: uuid.UUID | None = None,
) -> None:
    """One entry; with *source_event_id*, at most one per event and customer."""
    await conn.execute(
        """INSERT INTO customer_history (customer_id, occurred_at, kind, performed_by,
               correlation_id, description_da, description_en, reference, source_event_id)
           VALUES ($1::uuid, coalesce($2, now()), $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (source_event_id, customer_id) WHERE source_event_id IS NOT NULL
           DO NOTHING""",
        customer_id,
        occurred_at,
        entry.kind,
        performed_by,
        correlation_id,
        entry.description_da,
        entry.description_en,
        entry.reference,
        source_event_id,
    )


async def page(
    conn: asyncpg.Connection, customer_id: uuid.UUID, after: int | None, limit: int
) -> list[asyncpg.Record]:
    """Up to *limit* + 1 entries after entry *after*, oldest first (one more tells whether
    there is a next page)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT entry_id, occurred_at, kind, performed_by, correlation_id, description_da,
                  description_en, reference
           FROM customer_history
           WHERE customer_id = $1 AND entry_id > $2
           ORDER BY entry_id LIMIT $3""",
        customer_id,
        after or 0,
        limit + 1,
    )
    return rows


async def customer_exists(conn: asyncpg.Connection, customer_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM party WHERE party_id = $1", customer_id))


async def customers_of_account(conn: asyncpg.Connection, account_id: str) -> list[str]:
    """The customers an invoicing account bills: its own party (the customer paying for
    itself) and every customer whose contract names it as payer."""
    try:
        key = uuid.UUID(account_id)
    except ValueError:
        return []
    rows = await conn.fetch(
        """SELECT party_id FROM party WHERE party_id = $1 AND role = 'customer'
           UNION
           SELECT DISTINCT customer_id FROM contract WHERE payer_id = $1
           ORDER BY 1""",
        key,
    )
    return [str(r[0]) for r in rows]
