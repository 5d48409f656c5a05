"""A metering point as the supplier's portfolio knows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wattline_platform.identifiers import is_valid_gsrn

PriceArea = Literal["DK1", "DK2"]
MeteringPointType = Literal["E17", "E18", "E20"]
SettlementMethod = Literal["D01", "E02", "E01"]
Resolution = Literal["PT1H", "PT15M"]


class InvalidMeteringPoint(ValueError):
    """Master data that breaks a market rule."""


@dataclass(frozen=True)
class MeteringPoint:
    """Master data of one metering point (GSRN)."""

    gsrn: str
    grid_area: str
    price_area: PriceArea
    metering_point_type: MeteringPointType = "E17"
    settlement_method: SettlementMethod | None = "D01"
    resolution: Resolution = "PT1H"

    def __post_init__(self) -> None:
        if not is_valid_gsrn(self.gsrn):
            # Never the value: a mis-mapped column may hold a CPR number or a name.
            raise InvalidMeteringPoint("gsrn is not a GSRN (18 digits, starts 57, GS1 check digit)")
        if not (len(self.grid_area) == 3 and self.grid_area.isascii() and self.grid_area.isdigit()):
            raise InvalidMeteringPoint("the grid area must be 3 digits")
        if self.metering_point_type == "E17" and self.settlement_method is None:
            raise InvalidMeteringPoint("a consumption metering point needs a settlement method")

    def differs_from(self, other: MeteringPoint | None) -> bool:
        """True when registering *self* over *other* changes the master data."""
        return other != self
