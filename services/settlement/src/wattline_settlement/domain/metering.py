"""Metering data as settlement keeps it: a metering point's Danish local day of values in Wh
(kWh x 1000, exact; ``None`` is a missing value) with DataHub's quality codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from wattline_platform.business_days import local_midnight

from wattline_settlement.domain.engine import STEPS
from wattline_settlement.domain.model import Resolution

# DataHub's quality codes, stored as their number (A02 -> 2).
QUALITY_CODES: dict[str, int] = {"A02": 2, "A03": 3, "A04": 4, "A05": 5, "A06": 6}
QUALITY_NAMES: dict[int, str] = {code: name for name, code in QUALITY_CODES.items()}


@lru_cache(maxsize=16_384)
def positions(day: date, resolution: str) -> int:
    """Values in a Danish local day: 23/24/25 hours, or 92/96/100 quarters."""
    length = local_midnight(day + timedelta(days=1)) - local_midnight(day)
    return length // STEPS[resolution]


@dataclass(frozen=True, slots=True)
class DayData:
    """One stored version of a metering point's local day."""

    gsrn: str
    local_date: date
    resolution: Resolution
    wh: tuple[int | None, ...]  # Wh per position; None = missing
    qualities: tuple[str | None, ...]  # "A04" ...; None = no quality given
    version: int
    id: int
    received_at: datetime
    datahub_message_id: str
    transaction_id: str
    original_transaction_id: str | None
