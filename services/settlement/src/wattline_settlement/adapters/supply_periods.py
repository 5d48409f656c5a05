"""SQL of settlement's copy of the portfolio's supply periods: which of them a run settles,
what a recheck compares with, and who is netted with a solar production point."""

from __future__ import annotations

import asyncpg


async def gsrns_of_customer(conn: asyncpg.Connection, customer_id: str) -> list[str]:
    """Every metering point *customer_id* has (had) a supply period at."""
    rows = await conn.fetch(
        "SELECT DISTINCT gsrn FROM supply_periods WHERE customer_id = $1", customer_id
    )
    return [r["gsrn"] for r in rows]
