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

Our amounts carry 6 decimals per metering point, DataHub's per position: the tolerance
absorbs their roundings, not a real difference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from wattline_reconciliation.domain.energy import Status, deviation_percent


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
    if settlement_version and settlement_version[1:].isdigit():
        return int(settlement_version[1:])
    return 0


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
