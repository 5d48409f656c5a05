"""What the settlement API reads (each in one connection): master data, runs, their
settlements and blocked items, a metering point's settlements, and the export of what is not
yet invoiced. The SQL is in ``adapters/read_models.py`` and ``adapters/metering_points.py``."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from wattline_platform.db import Database

from wattline_settlement.adapters import metering_points, read_models


class NoSuchRun(Exception):
    """No run has this id."""


async def metering_point_counts(db: Database) -> dict[str, int]:
    """How many metering points and master-data versions settlement holds."""
    async with db.connection() as conn:
        return await metering_points.stats(conn)


async def metering_point(db: Database, gsrn: str) -> dict[str, Any] | None:
    """Settlement's master data of *gsrn* (None: unknown)."""
    async with db.connection() as conn:
        return await metering_points.get(conn, gsrn)


async def run(db: Database, run_id: uuid.UUID) -> asyncpg.Record | None:
    """One run (None: no such run)."""
    async with db.connection() as conn:
        return await read_models.run(conn, run_id)


async def runs(
    db: Database,
    period: str | None,
    grid_area: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[asyncpg.Record]]:
    """How many runs match the filters (``None``: any), and a page of them, newest first."""
    async with db.connection() as conn:
        return await read_models.runs(conn, period, grid_area, status, limit, offset)


async def run_detail(
    db: Database, run_id: uuid.UUID
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """A run and what it could not settle (first 100 by GSRN); raises :class:`NoSuchRun`."""
    async with db.connection() as conn:
        row = await read_models.run(conn, run_id)
        if row is None:
            raise NoSuchRun(str(run_id))
        return row, await read_models.blocked(conn, run_id)


async def settlements_of_run(
    db: Database, run_id: uuid.UUID, limit: int, offset: int
) -> tuple[int, list[asyncpg.Record]]:
    """How many settlements a run made and a page of them; raises :class:`NoSuchRun`."""
    async with db.connection() as conn:
        if not await read_models.run_exists(conn, run_id):
            raise NoSuchRun(str(run_id))
        return await read_models.settlements_of_run(conn, run_id, limit, offset)


async def settlements_of_metering_point(
    db: Database, gsrn: str
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """*gsrn*'s settlements and their corrections."""
    async with db.connection() as conn:
        return await read_models.settlements_of_metering_point(conn, gsrn)


async def uninvoiced(
    db: Database, limit: int, offset: int
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """A page of the settlements and corrections not yet marked invoiced."""
    async with db.connection() as conn:
        return await read_models.uninvoiced(conn, limit, offset)


async def corrections(
    db: Database, invoiced: bool | None, limit: int, offset: int
) -> list[asyncpg.Record]:
    """A page of corrections (invoiced or not, or both)."""
    async with db.connection() as conn:
        return await read_models.corrections(conn, invoiced, limit, offset)
