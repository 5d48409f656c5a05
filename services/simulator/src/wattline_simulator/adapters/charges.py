"""SQL for the charge links the simulated DataHub has sent (RSM-031)."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg


async def pending_links(
    conn: asyncpg.Connection, supplier_gln: str, day_start: datetime
) -> list[asyncpg.Record]:
    """Our metering points without links for their supply period (a seeded point has no
    supply start: it is linked from the day it is first generated)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT m.gsrn, m.grid_area, coalesce(m.supply_start, $2) AS supply_start
           FROM metering_point m
           LEFT JOIN charge_link_sent s
             ON s.gsrn = m.gsrn AND (m.supply_start IS NULL OR s.supply_start = m.supply_start)
           WHERE m.supplier_gln = $1 AND s.gsrn IS NULL
           ORDER BY m.gsrn""",
        supplier_gln,
        day_start,
    )
    return rows


async def record_links_sent(
    conn: asyncpg.Connection, sent: list[tuple[str, datetime, date, str]]
) -> None:
    """Record ``(gsrn, supply_start, local_date, transaction_id)`` links as sent (COPY)."""
    if sent:
        await conn.copy_records_to_table(
            "charge_link_sent",
            records=sent,
            columns=["gsrn", "supply_start", "local_date", "transaction_id"],
        )
