"""What a recheck of a settlement corrects: why (the reason it carries) and what part of the
billing period is still ours to settle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from wattline_settlement.domain.model import Line, Period

# The reasons a recheck is queued with that a correction carries as they are.
CHANGE_REASONS = frozenset(
    {
        "metering_data_corrected",
        "charge_prices_changed",
        "charge_links_changed",
        "contract_changed",
        "spot_prices_changed",
        "master_data_changed",
    }
)


def what_changed(
    reason: str,
    supply: tuple[date, date | None] | None,
    billing: Period,
    current: tuple[date, date],
) -> tuple[str, Period | None]:
    """The correction's reason and the period to settle now (``None``: nothing of it is ours
    any more) for a settlement of *billing* whose current period is *current*, rechecked for
    *reason* while its supply period runs over the dates *supply* (``None``: rolled back or
    gone). What was queued says what changed (newer metering data, a back-dated price, link,
    contract or master data), unless the supply period itself changed or was rolled back."""
    why = reason if reason in CHANGE_REASONS else "metering_data_corrected"
    if supply is None:
        return "erroneous_switch", None
    clip: Period | None = None
    start = max(supply[0], billing.start)
    end = min(supply[1] or billing.end, billing.end)
    if start < end:
        clip = Period(start, end)
    if (start, end) != current:
        why = "supply_period_changed"
    return why, clip


def zeroed(lines: Sequence[Line]) -> tuple[Line, ...]:
    """The lines of a settlement credited in full: each at 0 (kWh and days kept absent where
    they were)."""
    return tuple(
        Line(
            x.code,
            None if x.quantity_kwh is None else Decimal("0.000"),
            None if x.days is None else 0,
            Decimal("0.00"),
        )
        for x in lines
    )
