"""Seed the simulator's market in bulk: N metering points with COPY, idempotently."""

from __future__ import annotations

import asyncpg
from wattline_platform.identifiers import is_valid_gln

from wattline_simulator.domain.seeding import seeded_points

_COLUMNS = [
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


async def seed(
    conn: asyncpg.Connection,
    metering_points: int,
    *,
    supplier_gln: str = "5799994000015",
    seed: int = 1,
    pt15m_share: float = 0.1,
    ours_share: float = 1.0,
) -> int:
    """Give DataHub the first *metering_points* metering points of *seed*; return how many
    were new. Deterministic and idempotent: seeding again with the same seed adds nothing.

    *conn* must see the ``simulator`` schema (search_path). ``pt15m_share`` of the points
    are quarter-hourly; ``ours_share`` of them are supplied by *supplier_gln*, the rest by
    another supplier.
    """
    if not is_valid_gln(supplier_gln):
        raise ValueError(f"supplier_gln {supplier_gln!r} is not a valid GLN")
    if not (0.0 <= pt15m_share <= 1.0 and 0.0 <= ours_share <= 1.0):
        raise ValueError("shares must be between 0 and 1")
    records = [
        (
            p.gsrn,
            p.grid_area,
            p.price_area,
            p.metering_point_type,
            p.settlement_method,
            p.resolution,
            p.profile,
            p.annual_kwh,
            p.supplier_gln,
            p.dar_id,
            p.customer_key,
            p.blocked,
            seed,
            p.seed_index,
        )
        for p in seeded_points(
            seed,
            metering_points,
            supplier_gln=supplier_gln,
            pt15m_share=pt15m_share,
            ours_share=ours_share,
        )
    ]
    async with conn.transaction():
        await conn.execute("DROP TABLE IF EXISTS pg_temp.seed_batch")
        await conn.execute(
            "CREATE TEMPORARY TABLE seed_batch (LIKE metering_point INCLUDING DEFAULTS)"
            " ON COMMIT DROP"
        )
        await conn.copy_records_to_table("seed_batch", records=records, columns=_COLUMNS)
        status: str = await conn.execute(
            f"""INSERT INTO metering_point ({", ".join(_COLUMNS)})
                SELECT {", ".join(_COLUMNS)} FROM seed_batch
                ON CONFLICT (gsrn) DO NOTHING"""
        )
    return int(status.rsplit(" ", 1)[1])
