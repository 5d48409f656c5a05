"""SQL for the metering_points table."""

from __future__ import annotations

import asyncpg

from wattline_portfolio.domain.metering_point import MeteringPoint

_COLUMNS = "gsrn, grid_area, price_area, metering_point_type, settlement_method, resolution"


def _from_row(row: asyncpg.Record) -> MeteringPoint:
    return MeteringPoint(**{k: row[k] for k in _COLUMNS.split(", ")})


async def get(
    conn: asyncpg.Connection, gsrn: str, *, for_update: bool = False
) -> MeteringPoint | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM metering_points WHERE gsrn = $1"
        + (" FOR UPDATE" if for_update else ""),
        gsrn,
    )
    return _from_row(row) if row else None


async def save(conn: asyncpg.Connection, mp: MeteringPoint) -> None:
    await conn.execute(
        f"""INSERT INTO metering_points ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (gsrn) DO UPDATE SET grid_area = EXCLUDED.grid_area,
              price_area = EXCLUDED.price_area,
              metering_point_type = EXCLUDED.metering_point_type,
              settlement_method = EXCLUDED.settlement_method,
              resolution = EXCLUDED.resolution, updated_at = now()""",
        mp.gsrn,
        mp.grid_area,
        mp.price_area,
        mp.metering_point_type,
        mp.settlement_method,
        mp.resolution,
    )
