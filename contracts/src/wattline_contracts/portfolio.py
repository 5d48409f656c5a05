"""Events published by the portfolio service."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from wattline_contracts.envelope import Event

Gsrn = Field(pattern=r"^57\d{16}$", description="18-digit GSRN of the metering point")


class MeteringPointRegisteredV1(Event):
    """A metering point entered the supplier's portfolio (or its master data changed)."""

    TYPE: ClassVar[str] = "portfolio.metering_point.registered"
    VERSION: ClassVar[int] = 1

    gsrn: str = Gsrn
    grid_area: str = Field(pattern=r"^\d{3}$")
    price_area: Literal["DK1", "DK2"]
    metering_point_type: Literal["E17", "E18", "E20"] = "E17"
    settlement_method: Literal["D01", "E02", "E01"] | None = "D01"
    resolution: Literal["PT1H", "PT15M"] = "PT1H"
