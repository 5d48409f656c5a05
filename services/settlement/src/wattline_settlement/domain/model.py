"""What a settlement calculation takes and gives, for one metering point and one period.

The shapes follow the scenario and result JSON of the shared specification
(``shared/reference/settlement/README.md``): the ``wattline settle`` command parses a scenario
file into these, the service builds them from its tables; both hand them to the same engine.
Series are materialised: one value per interval of the period, in time order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypeVar

Resolution = Literal["PT1H", "PT15M"]
Kind = Literal["settlement", "correction", "erroneous_switch"]

LINE_CODES = (
    "spot_energy",
    "supplier_margin",
    "grid_tariff",
    "system_tariff",
    "transmission_tariff",
    "electricity_tax",
    "grid_subscription",
    "supplier_subscription",
)
SOLAR_LINE = "solar_export_credit"
# A fixed-price product's energy: one line instead of spot_energy + supplier_margin.
FIXED_LINE = "fixed_price_energy"
# DataHub fees (D02): one-off amounts, billed in the period that holds their date, a line per
# owner (a grid company's fee, or Energinet's), after the subscriptions and only when a fee
# falls in the period.
FEE_LINES = ("grid_fee", "energinet_fee")


@dataclass(frozen=True)
class Period:
    """Danish local dates ``[start, end)``."""

    start: date
    end: date


@dataclass(frozen=True)
class Series:
    """One value per interval from ``start`` (UTC, local midnight of the period's first day)
    at ``resolution``, covering the period exactly (92/96/100 or 23/24/25 a day)."""

    resolution: Resolution
    start: datetime
    values: tuple[Decimal, ...]


@dataclass(frozen=True)
class PriceVersion:
    """A price from a local date on: DKK/kWh, or DKK/month for subscriptions."""

    valid_from: date
    dkk: Decimal


@dataclass(frozen=True)
class TariffVersion:
    """A grid tariff from a local date on: 24 hourly positions (local hour + 1) or flat."""

    valid_from: date
    hourly: tuple[Decimal, ...] | None = None
    flat: Decimal | None = None


@dataclass(frozen=True)
class PartVersion:
    """One linked charge's price from a local date on, its link's factor applied: 24
    local-hour positions or one flat price (DKK/kWh, or DKK/month for a subscription);
    neither: not linked from that date."""

    valid_from: date
    hourly: tuple[Decimal, ...] | None = None
    flat: Decimal | None = None


@dataclass(frozen=True)
class ChargePart:
    """One DataHub charge (owner, type, id) inside a line: a line such as ``grid_tariff``
    may sum several linked charges; the parts say what each of them contributes."""

    code: str  # the line it is part of
    owner_gln: str
    charge_type: str
    charge_id: str
    versions: tuple[PartVersion, ...]  # the first from the period's start


@dataclass(frozen=True)
class Fee:
    """One DataHub fee (D02) due on a local date: a charge link whose start is that date,
    its price (DKK per piece) on that date and the link's factor (pieces)."""

    code: str  # the line it is billed on, one of FEE_LINES
    owner_gln: str
    charge_type: str
    charge_id: str
    day: date
    dkk_per_piece: Decimal
    pieces: int


@dataclass(frozen=True)
class ChargeAmount:
    """What one charge of a line comes to: the kWh it applied to (or the days it was
    linked, for a subscription) and its exact amount rounded half up to 6 decimals (for
    reconciliation with DataHub's wholesale settlement; the invoice uses the line)."""

    code: str
    owner_gln: str
    charge_type: str
    charge_id: str
    quantity_kwh: Decimal | None
    days: int | None
    amount: Decimal

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.code, self.owner_gln, self.charge_type, self.charge_id)


_N = TypeVar("_N", Decimal, int)


def _less(a: _N | None, b: _N | None, zero: _N) -> _N | None:
    """*a* - *b*, a missing side counting as *zero*; None when both are missing."""
    if a is None and b is None:
        return None
    return (zero if a is None else a) - (zero if b is None else b)


def charge_amounts_minus(
    new: Sequence[ChargeAmount], old: Sequence[ChargeAmount]
) -> tuple[ChargeAmount, ...]:
    """Per charge *new* minus *old*, what a correction adds to each charge (a charge on one
    side only counts as zero on the other): new's charges first, then those only in old."""
    before = {a.key: a for a in old}
    after = {a.key: a for a in new}
    out = []
    for key in [*after, *(k for k in before if k not in after)]:
        x, y = after.get(key), before.get(key)
        out.append(
            ChargeAmount(
                *key,
                _less(
                    None if x is None else x.quantity_kwh,
                    None if y is None else y.quantity_kwh,
                    Decimal(0),
                ),
                _less(None if x is None else x.days, None if y is None else y.days, 0),
                (x.amount if x else Decimal(0)) - (y.amount if y else Decimal(0)),
            )
        )
    return tuple(out)


def lines_minus(new: Sequence[Line], old: Sequence[Line]) -> tuple[Line, ...]:
    """Line by line *new* minus *old*, what a correction adds to each line (spec §5.8: rounded
    line - rounded line). Codes in new's order, then those only in old; a line on one side
    only counts as zero on the other, and a kWh or day figure is ``None`` only when it is
    ``None`` on both sides. Amounts keep (at least) their 2 decimals."""
    before = {line.code: line for line in old}
    after = {line.code: line for line in new}
    out = []
    for code in [*after, *(c for c in before if c not in after)]:
        x, y = after.get(code), before.get(code)
        out.append(
            Line(
                code,
                _less(
                    None if x is None else x.quantity_kwh,
                    None if y is None else y.quantity_kwh,
                    Decimal(0),
                ),
                _less(None if x is None else x.days, None if y is None else y.days, 0),
                (x.amount if x else Decimal(0)) - (y.amount if y else Decimal(0)) + Decimal("0.00"),
            )
        )
    return tuple(out)


def unit_price(line: Line) -> Decimal | None:
    """What a line costs per kWh (per day for a subscription), to 6 decimals; ``None`` for a
    line with neither (a fee) or with nothing of either."""
    base = line.quantity_kwh if line.quantity_kwh else (line.days or None)
    return (line.amount / Decimal(base)).quantize(Decimal("0.000001")) if base else None


def is_no_change(lines: Sequence[Line], amounts: Sequence[ChargeAmount]) -> bool:
    """Whether a correction's deltas (per line, and per charge from
    :func:`charge_amounts_minus`) change nothing: no amount, kWh or day of any line or any
    charge. Money moved between two charges of one line (one grid tariff down, another of the
    same owner up) leaves the line's total as it was but is a change: wholesale
    reconciliation keeps what was billed per charge, so such a correction is published."""
    return all(x.amount == 0 and not x.quantity_kwh and not x.days for x in lines) and all(
        a.amount == 0 and not a.quantity_kwh and not a.days for a in amounts
    )


@dataclass(frozen=True)
class Charges:
    """Every price of the calculation, each a list of versions."""

    supplier_margin: tuple[PriceVersion, ...]
    grid_tariff: tuple[TariffVersion, ...]
    system_tariff: tuple[PriceVersion, ...]
    transmission_tariff: tuple[PriceVersion, ...]
    electricity_tax: tuple[PriceVersion, ...]
    grid_subscription: tuple[PriceVersion, ...]
    supplier_subscription: tuple[PriceVersion, ...]
    # A fixed-price product: the energy price (DKK/kWh) instead of spot + margin. Margins and
    # fixed prices are versions of one energy price: on a local date the newest of either
    # applies (a product change from spot to fixed inside a period). Empty: spot only.
    fixed_price: tuple[PriceVersion, ...] = ()
    # The linked charges behind the DataHub lines, one by one (empty: not known, e.g. a
    # scenario file): settle() then also says what each charge comes to.
    parts: tuple[ChargePart, ...] = ()
    # The fees (D02) linked with a date: each is billed once, in the period that holds it.
    fees: tuple[Fee, ...] = ()


@dataclass(frozen=True)
class Elvarme:
    """Reduced electricity tax above a yearly threshold (spec §5.7).

    ``from_date``: the local date the registration applies from, when that is inside the
    period; the intervals before it are taxed at the normal rate and not counted, and
    ``consumed_kwh_before_period`` is then the counter on that date."""

    threshold_kwh: Decimal
    consumed_kwh_before_period: Decimal
    reduced_electricity_tax: tuple[PriceVersion, ...]
    from_date: date | None = None


@dataclass(frozen=True)
class Aconto:
    paid: Decimal
    next_prepayment: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Scenario:
    """One calculation (spec §4)."""

    period: Period
    vat_rate: Decimal
    consumption: Series
    spot: Series | None  # None only for a fixed-price product without production
    charges: Charges
    kind: Kind = "settlement"
    production: Series | None = None
    elvarme: Elvarme | None = None
    aconto: Aconto | None = None
    corrected_consumption: Series | None = None
    invoice_periods: tuple[Period, ...] | None = None


@dataclass(frozen=True)
class Line:
    code: str
    quantity_kwh: Decimal | None  # per-kWh lines; None for subscriptions and fees
    days: int | None  # subscriptions; None otherwise
    amount: Decimal  # rounded half up to 2 decimals


@dataclass(frozen=True)
class Document:
    """A settled (or credited) invoice period: lines, subtotal, VAT, total."""

    period: Period
    consumption_kwh: Decimal
    lines: tuple[Line, ...]
    subtotal: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True)
class AcontoResult:
    paid: Decimal
    difference: Decimal
    next_prepayment: Decimal
    amount_due: Decimal


@dataclass(frozen=True)
class Result:
    """The result JSON (spec §6)."""

    kind: Kind
    period: Period
    consumption_kwh: Decimal
    lines: tuple[Line, ...]
    subtotal: Decimal
    vat: Decimal
    total: Decimal
    aconto: AcontoResult | None = None
    documents: tuple[Document, ...] | None = None
    # Per linked charge (a settlement whose charges have parts): see ChargeAmount.
    charge_amounts: tuple[ChargeAmount, ...] = ()
