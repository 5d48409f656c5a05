"""SQL for settlement's copy of metering point master data."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from wattline_contracts.portfolio import MeteringPointRegisteredV1


async def apply_master_data(
    conn: asyncpg.Connection, event: MeteringPointRegisteredV1, event_id: uuid.UUID
) -> None:
    await conn.execute(
        """INSERT INTO metering_points
               (gsrn, grid_area, price_area, metering_point_type, settlement_method, resolution)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (gsrn) DO UPDATE SET grid_area = EXCLUDED.grid_area,
               price_area = EXCLUDED.price_area,
               metering_point_type = EXCLUDED.metering_point_type,
               settlement_method = EXCLUDED.settlement_method,
               resolution = EXCLUDED.resolution, updated_at = now()""",
        event.gsrn,
        event.grid_area,
        event.price_area,
        event.metering_point_type,
        event.settlement_method,
        event.resolution,
    )
    await conn.execute(
        """INSERT INTO metering_point_history (gsrn, event_id, grid_area, price_area, resolution)
           VALUES ($1, $2, $3, $4, $5)""",
        event.gsrn,
        event_id,
        event.grid_area,
        event.price_area,
        event.resolution,
    )


async def get(conn: asyncpg.Connection, gsrn: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """SELECT m.gsrn, m.grid_area, m.price_area, m.metering_point_type,
                  m.settlement_method, m.resolution,
                  (SELECT count(*) FROM metering_point_history h WHERE h.gsrn = m.gsrn)
                      AS master_data_versions
           FROM metering_points m WHERE m.gsrn = $1""",
        gsrn,
    )
    return dict(row) if row else None


async def stats(conn: asyncpg.Connection) -> dict[str, int]:
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM metering_points) AS metering_points,
                  (SELECT count(*) FROM metering_point_history) AS master_data_versions"""
    )
    assert row is not None
    return {
        "metering_points": row["metering_points"],
        "master_data_versions": row["master_data_versions"],
    }


async def master_data(conn: asyncpg.Connection, gsrns: Sequence[str]) -> dict[str, asyncpg.Record]:
    """By GSRN, the grid area, price area and type of those of *gsrns* with master data."""
    rows = await conn.fetch(
        """SELECT gsrn, grid_area, price_area, metering_point_type FROM metering_points
           WHERE gsrn = ANY($1)""",
        list(gsrns),
    )
    return {r["gsrn"]: r for r in rows}
