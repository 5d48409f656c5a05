"""What reconciliation may ask DataHub for: its totals for a grid area (RSM-016) or a metering
point's data (RSM-015), over whole Danish local days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

MAX_DAYS = 31  # a month at a time: DataHub answers a request with one document per day


class InvalidRequest(ValueError):
    """A request DataHub would refuse: the message says why."""


@dataclass(frozen=True)
class DataRequest:
    kind: Literal["RSM-015", "RSM-016"]
    start: date
    end: date  # exclusive
    grid_area: str | None = None
    gsrn: str | None = None
    metering_point_type: str | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidRequest("end_date must be after start_date")
        if self.end - self.start > timedelta(days=MAX_DAYS):
            raise InvalidRequest(f"at most {MAX_DAYS} days per request")
        if self.kind == "RSM-016" and (self.grid_area is None or self.gsrn is not None):
            raise InvalidRequest("RSM-016 asks for a grid_area's totals (and no gsrn)")
        if self.kind == "RSM-015" and (self.gsrn is None or self.grid_area is not None):
            raise InvalidRequest("RSM-015 asks for a gsrn's metering data (and no grid_area)")
