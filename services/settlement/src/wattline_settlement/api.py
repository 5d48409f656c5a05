"""Settlement HTTP API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.params import FromPath
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_settlement.adapters import metering_points


class MeteringPointController(Controller):
    path = "/api/settlement/metering-points"
    tags = ["settlement"]

    @get("/", summary="How many metering points and master-data versions settlement holds")
    async def summary(self, service: ServiceDep) -> dict[str, int]:
        async with service.database.connection() as conn:
            return await metering_points.stats(conn)

    @get("/{gsrn:str}", summary="Settlement's view of a metering point's master data")
    async def fetch(self, gsrn: FromPath[str], service: ServiceDep) -> dict[str, Any]:
        async with service.database.connection() as conn:
            mp = await metering_points.get(conn, gsrn)
        if mp is None:
            raise Problem(404, "metering-point-not-found", "Unknown metering point", gsrn)
        return mp
