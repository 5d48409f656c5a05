"""SQL that seeds the simulator's market in bulk: COPY into a temporary table, then insert
what is new (so seeding again adds nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

COLUMNS = [
    "gsrn",
    "grid_area",
    "price_area",
    "metering_point_type",
    "settlement_method",
    "resolution",
    "profile",
    "annual_kwh",
    "supplier_gln",
    "dar_id",
    "customer_key",
    "blocked",
    "seed",
    "seed_index",
]


async def add_metering_points(conn: asyncpg.Connection, records: Sequence[tuple[Any, ...]]) -> int:
    """Insert the *records* (in ``COLUMNS`` order) not there yet; return how many were new."""
    async with conn.transaction():
        await conn.execute("DROP TABLE IF EXISTS pg_temp.seed_batch")
        await conn.execute(
            "CREATE TEMPORARY TABLE seed_batch (LIKE metering_point INCLUDING DEFAULTS)"
            " ON COMMIT DROP"
        )
        await conn.copy_records_to_table("seed_batch", records=records, columns=COLUMNS)
        status: str = await conn.execute(
            f"""INSERT INTO metering_point ({", ".join(COLUMNS)})
                SELECT {", ".join(COLUMNS)} FROM seed_batch
                ON CONFLICT (gsrn) DO NOTHING"""
        )
    return int(status.rsplit(" ", 1)[1])
