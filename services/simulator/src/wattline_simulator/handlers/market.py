"""The simulated market as the control API reads and seeds it: metering points, customers,
what the daily generation queued, RSM-001 processes and another supplier's switch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from wattline_platform.business_days import danish_today
from wattline_platform.db import Database

from wattline_simulator.adapters import market, store
from wattline_simulator.adapters import processes as process_store
from wattline_simulator.adapters import wholesale as wholesale_store
from wattline_simulator.domain import seeding
from wattline_simulator.handlers.processes import start_switch
from wattline_simulator.handlers.seed import seed as seed_points
from wattline_simulator.settings import SimulatorSettings


@dataclass(frozen=True)
class Generated:
    """What the daily generation recorded: days, their logs and aggregates, RSM-019 months."""

    days: list[asyncpg.Record]
    logs: list[asyncpg.Record]
    aggregates: list[asyncpg.Record]
    wholesale: list[asyncpg.Record]


async def seed(
    db: Database,
    settings: SimulatorSettings,
    metering_points: int,
    seed: int,
    pt15m_share: float,
    ours_share: float,
) -> tuple[int, dict[str, Any]]:
    """Seed the market; how many points were new and the market's counts after."""
    async with db.transaction() as tx:
        added = await seed_points(
            tx,
            metering_points,
            supplier_gln=settings.supplier_gln,
            seed=seed,
            pt15m_share=pt15m_share,
            ours_share=ours_share,
        )
        counts = await market.market_counts(tx)
    return added, counts


async def counts(db: Database) -> dict[str, Any]:
    """Metering points per supplier, grid area, resolution and type."""
    async with db.connection() as conn:
        return await market.market_counts(conn)


async def generated(db: Database) -> Generated:
    """Everything the daily generation has recorded, in day order."""
    async with db.connection() as conn:
        days, logs, aggregates = await market.generated_summary(conn)
        months = await wholesale_store.generated(conn)
    return Generated(days, logs, aggregates, months)


async def address_gsrns(db: Database, dar_id: uuid.UUID) -> list[str]:
    """The metering points at a DAR address (empty: no such address)."""
    async with db.connection() as conn:
        return await market.address_gsrns(conn, dar_id)


async def metering_point(db: Database, gsrn: str) -> asyncpg.Record | None:
    """A metering point's master data (None: unknown)."""
    async with db.connection() as conn:
        return await market.metering_point(conn, gsrn)


async def processes(db: Database) -> list[asyncpg.Record]:
    """Every RSM-001 process, in the order DataHub received them."""
    async with db.connection() as conn:
        return await process_store.all_processes(conn)


async def switch(
    db: Database, gsrn: str, supplier_gln: str, effective_start: datetime
) -> str | None:
    """Another supplier takes *gsrn* from *effective_start*; the process reference (None:
    unknown metering point or a process already open)."""
    async with db.transaction() as tx:
        return await start_switch(tx, gsrn, supplier_gln, effective_start)


def _customers(grouped: dict[uuid.UUID, list[Any]]) -> list[seeding.MarketCustomer]:
    return [
        seeding.market_customer(
            dar_id,
            tuple(
                seeding.AddressPoint(
                    gsrn=r["gsrn"],
                    metering_point_type=r["metering_point_type"],
                    profile=r["profile"],
                    grid_area=r["grid_area"],
                    price_area=r["price_area"],
                    settlement_method=r["settlement_method"],
                    resolution=r["resolution"],
                    supplier_gln=r["supplier_gln"],
                    blocked=r["blocked"],
                )
                for r in rows
            ),
        )
        for dar_id, rows in grouped.items()
    ]


async def customers(
    db: Database, settings: SimulatorSettings, limit: int, after: uuid.UUID | None
) -> list[seeding.MarketCustomer]:
    """Customers a newcomer can sign up (another supplier's, unblocked), by DAR id."""
    async with db.connection() as conn:
        grouped = await market.addresses(
            conn, settings.supplier_gln, ours=False, limit=limit, after=after
        )
    return _customers(grouped)


async def portfolio_import_rows(
    db: Database, settings: SimulatorSettings, product: str
) -> list[dict[str, str]]:
    """The metering points we supply, as rows of a portfolio import file."""
    async with db.connection() as conn:
        now = await store.now(conn) or settings.start
        grouped = await market.addresses(conn, settings.supplier_gln, ours=True)
    return seeding.import_rows(
        _customers(grouped), settings.supplier_gln, danish_today(now), product
    )
