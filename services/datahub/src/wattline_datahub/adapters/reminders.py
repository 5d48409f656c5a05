"""SQL for missing_data_reminders: DataHub's reminders of missing measure data (RSM-018)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def add(
    conn: asyncpg.Connection, rows: Sequence[tuple[str, str, str, datetime | None]]
) -> None:
    """Keep reminders (message id, transaction id, GSRN, missing since); repeats are skipped."""
    if rows:
        await conn.executemany(
            """INSERT INTO missing_data_reminders
                   (datahub_message_id, transaction_id, gsrn, missing_since)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            rows,
        )


async def page(
    conn: asyncpg.Connection, after: int | None, limit: int, gsrn: str | None
) -> list[asyncpg.Record]:
    """Newest first, from before the id *after* (keyset); only *gsrn*'s when given."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT id, datahub_message_id, transaction_id, gsrn, missing_since, received_at
           FROM missing_data_reminders
           WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR gsrn = $2)
           ORDER BY id DESC LIMIT $3""",
        after,
        gsrn,
        limit,
    )
    return rows
