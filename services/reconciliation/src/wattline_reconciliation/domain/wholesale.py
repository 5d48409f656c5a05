"""Wholesale reconciliation: DataHub's RSM-019 per charge against what our settlements billed.

A *slice* is one grid area, month (billing period) and DataHub charge (owner GLN, type, id).
DataHub's side is the sum of the amounts of its wholesale settlement of that charge (the
highest-ranked version: a correction settlement over wholesale fixing). Our side is the sum,
over the settlements of that grid area and month, of what each settled for that charge (the
per-charge breakdown of ``settlement.completed``), plus every ``settlement.correction`` of
them. Each slice is then exactly one of the energy reconciliation's results:

- ``matched``: both sides known and within the tolerance (DKK);
- ``deviation``: both known, the difference beyond the tolerance;
- ``missing_ours``: DataHub settled a charge we billed nothing for;
- ``missing_datahub``: we billed a charge DataHub sent no settlement of.

DataHub's side of a charge may come in several series (one per metering point type and
settlement method, e.g. flex and non-profiled consumption): they are kept apart and summed
when compared. A series is replaced by a later one of the same series only if that one is at
least as final (``series_rank``: settlement version, then DataHub's calculation version); an
older calculation arriving late is ignored. A series crossing a month end is filed position by
position under the Danish local month each position starts in.

Our amounts carry 6 decimals per metering point, DataHub's per position: the tolerance
absorbs their roundings, not a real difference.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from wattline_reconciliation.domain.energy import COPENHAGEN, Status, deviation_percent

FIXED_STEPS = {"PT15M": timedelta(minutes=15), "PT1H": timedelta(hours=1)}


@dataclass(frozen=True, order=True)
class ChargeKey:
    """A DataHub charge: its owner, type (D01 subscription, D02 fee, D03 tariff) and id."""

    owner_gln: str
    charge_type: str
    charge_id: str


@dataclass(frozen=True)
class ChargeResult:
    """The result of one grid area, month and charge."""

    charge: ChargeKey
    status: Status
    datahub_dkk: Decimal | None
    ours_dkk: Decimal | None
    deviation_dkk: Decimal | None
    deviation_percent: Decimal | None

    def fingerprint(self) -> str | None:
        """What identifies this deviation (None: none): raised again only when it changes."""
        if self.status != "deviation":
            return None
        text = f"{self.charge}:{self.datahub_dkk}:{self.ours_dkk}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def settlement_rank(settlement_version: str | None) -> int:
    """How final an RSM-019 series is: wholesale fixing (no version) 0, then the correction
    settlements D01, D02, ... counting up; a slice is replaced by a rank at least as high."""
    return _number(settlement_version[1:] if settlement_version else None)


def calculation_rank(calculation_version: str | None) -> int:
    """DataHub's calculation version as a number (none or not a number: 0, the oldest)."""
    return _number(calculation_version)


def _number(text: str | None) -> int:
    # ASCII digits only (int() refuses '²', which isdigit() takes), and small enough for the
    # bigint it is stored in: anything else ranks as the oldest rather than failing the series.
    if text and text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return 0


def series_rank(settlement_version: str | None, calculation_version: str | None) -> tuple[int, int]:
    """How final an RSM-019 series is: its settlement version first, then its calculation
    version. A stored series is replaced only by one ranked at least as high."""
    return settlement_rank(settlement_version), calculation_rank(calculation_version)


@dataclass(frozen=True)
class SeriesKey:
    """One RSM-019 series of a charge: its metering point type and settlement method ('' when
    DataHub names none)."""

    charge: ChargeKey
    metering_point_type: str
    settlement_method: str


class UnknownResolution(ValueError):
    """A series in a resolution whose positions this service cannot place in time."""


def month_of(instant: datetime) -> str:
    """The Danish local month (``YYYY-MM``) an instant lies in."""
    local = instant.astimezone(COPENHAGEN)
    return f"{local.year:04d}-{local.month:02d}"


def _position_start(start: datetime, resolution: str, position: int) -> datetime:
    step = FIXED_STEPS.get(resolution)
    if step is not None:
        return start + step * (position - 1)
    local = start.astimezone(COPENHAGEN)
    if resolution == "P1D":
        return (local.replace(tzinfo=None) + timedelta(days=position - 1)).replace(
            tzinfo=COPENHAGEN
        )
    if resolution == "P1M":
        months = local.month - 1 + position - 1
        year, month = local.year + months // 12, months % 12 + 1
        day = min(local.day, calendar.monthrange(year, month)[1])
        return local.replace(year=year, month=month, day=day).astimezone(UTC)
    raise UnknownResolution(resolution)


def amounts_by_month(
    start: datetime, resolution: str, amounts: Iterable[tuple[int, Decimal | None]]
) -> dict[str, Decimal]:
    """A series' ``(position, amount)`` summed per Danish local month the position starts in
    (a position without an amount counts nothing; a month with none of them is left out)."""
    out: dict[str, Decimal] = {}
    for position, amount in amounts:
        if amount is None:
            continue
        month = month_of(_position_start(start, resolution, position))
        out[month] = out.get(month, Decimal(0)) + amount
    return out


def charge_totals(series: Mapping[SeriesKey, Decimal]) -> dict[ChargeKey, Decimal]:
    """DataHub's amount per charge: the sum of the charge's series."""
    out: dict[ChargeKey, Decimal] = {}
    for key, amount in series.items():
        out[key.charge] = out.get(key.charge, Decimal(0)) + amount
    return out


def reconcile_month(
    datahub: Mapping[ChargeKey, Decimal],
    ours: Mapping[ChargeKey, Decimal],
    tolerance_dkk: Decimal,
) -> list[ChargeResult]:
    """Compare one grid area's month charge by charge (sorted by charge)."""
    results = []
    for charge in sorted(set(datahub) | set(ours)):
        theirs, mine = datahub.get(charge), ours.get(charge)
        status: Status
        deviation = percent = None
        if theirs is None:
            status = "missing_datahub"
        elif mine is None:
            status = "missing_ours"
        else:
            deviation = mine - theirs
            percent = deviation_percent(deviation, theirs)
            status = "deviation" if abs(deviation) > tolerance_dkk else "matched"
        results.append(ChargeResult(charge, status, theirs, mine, deviation, percent))
    return results
