"""Portfolio commands: load, decide (domain), save + outbox in one transaction."""

from __future__ import annotations

from wattline_contracts.portfolio import MeteringPointRegisteredV1
from wattline_platform.service import Service

from wattline_portfolio.adapters import metering_points
from wattline_portfolio.domain.metering_point import MeteringPoint


async def register_metering_point(service: Service, mp: MeteringPoint) -> bool:
    """Store *mp*'s master data; publish it when new or changed. Returns True if changed."""
    async with service.database.transaction() as tx:
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
