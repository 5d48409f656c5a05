"""Portfolio HTTP API (thin: parse, call a handler, map errors)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_portfolio import handlers
from wattline_portfolio.adapters import metering_points
from wattline_portfolio.domain.metering_point import InvalidMeteringPoint, MeteringPoint


class MeteringPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gsrn: str
    grid_area: str
    price_area: Literal["DK1", "DK2"]
    metering_point_type: Literal["E17", "E18", "E20"] = "E17"
    settlement_method: Literal["D01", "E02", "E01"] | None = "D01"
    resolution: Literal["PT1H", "PT15M"] = "PT1H"


class MeteringPointOut(MeteringPointIn):
    changed: bool | None = None


class MeteringPointController(Controller):
    path = "/api/portfolio/metering-points"
    tags = ["portfolio"]

    @post("/", status_code=201, summary="Register or update a metering point's master data")
    async def register(
        self, data: JSONBody[MeteringPointIn], service: ServiceDep
    ) -> MeteringPointOut:
        try:
            mp = MeteringPoint(**data.model_dump())
        except InvalidMeteringPoint as exc:
            raise Problem(
                422, "invalid-metering-point", "Invalid metering point", str(exc)
            ) from exc
        changed = await handlers.register_metering_point(service, mp)
        return MeteringPointOut(**asdict(mp), changed=changed)

    @get("/{gsrn:str}", summary="A metering point's master data")
    async def fetch(self, gsrn: FromPath[str], service: ServiceDep) -> dict[str, Any]:
        async with service.database.connection() as conn:
            mp = await metering_points.get(conn, gsrn)
        if mp is None:
            raise Problem(404, "metering-point-not-found", "Unknown metering point", gsrn)
        return asdict(mp)
