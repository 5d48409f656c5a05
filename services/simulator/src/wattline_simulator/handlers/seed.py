"""Seed the simulator's market in bulk: N metering points with COPY, idempotently."""

from __future__ import annotations

import asyncpg
from wattline_platform.identifiers import is_valid_gln

from wattline_simulator.adapters import seed as seed_store
from wattline_simulator.domain.seeding import seeded_points


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
    return await seed_store.add_metering_points(conn, records)
