"""Metering points: their master data, from DataHub (RSM-022), an import or back office."""

from __future__ import annotations

import asyncpg
from wattline_contracts.portfolio import MeteringPointRegisteredV1

from wattline_portfolio.adapters import metering_points
from wattline_portfolio.domain.metering_point import MeteringPoint
from wattline_portfolio.settings import PortfolioService


async def store_metering_point(
    service: PortfolioService, tx: asyncpg.Connection, mp: MeteringPoint
) -> bool:
    """Store *mp* in *tx*; publish ``portfolio.metering_point.registered`` when it is new or
    changed. Returns True if changed."""
    current = await metering_points.get(tx, mp.gsrn, for_update=True)
    if not mp.differs_from(current):
        return False
    await metering_points.save(tx, mp)
    await service.emit(
        tx,
        MeteringPointRegisteredV1(
            gsrn=mp.gsrn,
            grid_area=mp.grid_area,
            price_area=mp.price_area,
            metering_point_type=mp.metering_point_type,
            settlement_method=mp.settlement_method,
            resolution=mp.resolution,
        ),
        key=mp.gsrn,
    )
    return True


async def register_metering_point(service: PortfolioService, mp: MeteringPoint) -> bool:
    """Store *mp*'s master data; publish it when new or changed. Returns True if changed."""
    async with service.database.transaction() as tx:
        return await store_metering_point(service, tx, mp)


async def metering_point(service: PortfolioService, gsrn: str) -> MeteringPoint | None:
    """The master data of *gsrn* (None: unknown)."""
    async with service.database.connection() as conn:
        return await metering_points.get(conn, gsrn)
