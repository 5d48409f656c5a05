"""SQL for portfolio imports: the upload with its report, and each row imported once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg


async def insert_import(
    conn: asyncpg.Connection,
    import_id: uuid.UUID,
    received_at: datetime,
    row_count: int,
    errors: list[dict[str, Any]],
) -> None:
    """A new import of *row_count* rows, with the rows refused before any was stored."""
    await conn.execute(
        """INSERT INTO portfolio_import (import_id, received_at, row_count, rejected, errors)
           VALUES ($1, $2, $3, $4, $5)""",
        import_id,
        received_at,
        row_count,
        len(errors),
        errors,  # the pool's jsonb codec encodes it
    )


async def add_progress(
    conn: asyncpg.Connection,
    import_id: uuid.UUID,
    *,
    imported: int,
    already_imported: int,
    errors: list[dict[str, Any]],
) -> None:
    """Count a chunk of rows, in the chunk's own transaction: the report never counts a row
    that was not committed, nor misses one that was."""
    await conn.execute(
        """UPDATE portfolio_import SET imported = imported + $2,
               already_imported = already_imported + $3, rejected = rejected + $4,
               errors = errors || $5 WHERE import_id = $1""",
        import_id,
        imported,
        already_imported,
        len(errors),
        errors,
    )


async def finish_import(
    conn: asyncpg.Connection, import_id: uuid.UUID, finished_at: datetime
) -> None:
    await conn.execute(
        """UPDATE portfolio_import SET finished_at = $2,
               errors = coalesce((SELECT jsonb_agg(e ORDER BY (e->>'line')::int)
                                  FROM jsonb_array_elements(errors) e), '[]')
           WHERE import_id = $1""",
        import_id,
        finished_at,
    )


async def get_import(conn: asyncpg.Connection, import_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM portfolio_import WHERE import_id = $1", import_id)


async def list_imports(
    conn: asyncpg.Connection, *, limit: int, after: uuid.UUID | None
) -> list[asyncpg.Record]:
    """Imports, newest first, without their errors; *after*: the last import of the page
    before (keyset)."""
    return list(
        await conn.fetch(
            """SELECT import_id, received_at, finished_at, row_count, imported,
                      already_imported, rejected
               FROM portfolio_import
               WHERE $2::uuid IS NULL OR (received_at, import_id) <
                     (SELECT received_at, import_id FROM portfolio_import WHERE import_id = $2)
               ORDER BY received_at DESC, import_id DESC LIMIT $1""",
            limit,
            after,
        )
    )


async def claim_row(
    conn: asyncpg.Connection, external_id: str, import_id: uuid.UUID, line: int, gsrn: str
) -> bool:
    """Record that the row *external_id* is imported (by this transaction); False when it
    already was (the primary key decides, also between concurrent imports)."""
    claimed = await conn.fetchval(
        """INSERT INTO imported_row (external_id, import_id, line, gsrn)
           VALUES ($1, $2, $3, $4) ON CONFLICT (external_id) DO NOTHING RETURNING true""",
        external_id,
        import_id,
        line,
        gsrn,
    )
    return bool(claimed)


async def complete_row(
    conn: asyncpg.Connection,
    external_id: str,
    *,
    supply_period_id: str,
    contract_id: str,
    customer_id: str,
    payer_id: str | None,
    payer_external_id: str | None,
    dar_id: uuid.UUID | None,
) -> None:
    await conn.execute(
        """UPDATE imported_row SET supply_period_id = $2::uuid, contract_id = $3::uuid,
               customer_id = $4::uuid, payer_id = $5::uuid, payer_external_id = $6,
               dar_id = $7
           WHERE external_id = $1""",
        external_id,
        supply_period_id,
        contract_id,
        customer_id,
        payer_id,
        payer_external_id,
        dar_id,
    )


async def row_of_period(conn: asyncpg.Connection, supply_period_id: Any) -> str | None:
    """The external id of the imported row that started *supply_period_id*, if one did."""
    value = await conn.fetchval(
        "SELECT external_id FROM imported_row WHERE supply_period_id = $1", supply_period_id
    )
    return None if value is None else str(value)
