"""The settlement calculation of one metering point and one period (spec §5), exact to the øre.

Specification: ``shared/reference/settlement/README.md``. All arithmetic is exact: quantities
and prices are ``Decimal`` evaluated in a context of unbounded precision that traps
``Inexact`` (so nothing can be rounded by accident), subscription day prices are ``Fraction``.
The only rounding is :func:`round_money`: once per line over the whole period, once for VAT.

The pieces the bulk path (:mod:`wattline_settlement.domain.bulk`) shares with :func:`settle`
are public here: the :class:`Timeline` of settlement intervals, the per-interval price table
(:func:`interval_prices`), the subscription lines and the document arithmetic. Both paths
therefore resolve versions, local hours and spot means in exactly one place.
"""

from __future__ import annotations

import bisect
import calendar
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from typing import Protocol, TypeVar

from wattline_platform.business_days import DANISH_TZ
from wattline_platform.business_days import local_midnight as local_midnight_utc

from wattline_settlement.domain.model import (
    FEE_LINES,
    FIXED_LINE,
    LINE_CODES,
    SOLAR_LINE,
    Aconto,
    AcontoResult,
    ChargeAmount,
    ChargePart,
    Charges,
    Document,
    Elvarme,
    Fee,
    Line,
    PartVersion,
    Period,
    PriceVersion,
    Resolution,
    Result,
    Scenario,
    Series,
    TariffVersion,
    lines_minus,
)

STEPS: dict[str, timedelta] = {"PT1H": timedelta(hours=1), "PT15M": timedelta(minutes=15)}
KINDS = ("settlement", "correction", "erroneous_switch")
GRID_POSITIONS = 24

# Unbounded precision with Inexact trapped: +, - and * are exact or fail loudly. Division is
# never used on Decimals here (a quarter mean is a sum times 0.25; day prices are Fractions).
EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)
_ZERO = Decimal(0)
_QUARTER = Decimal("0.25")
_KWH_PLACES = 3
_MONEY_PLACES = 2


class BadScenario(ValueError):
    """A scenario that breaks a rule of the specification (§4, §7); the message is one line."""


# --- time ------------------------------------------------------------------------------------


def interval_count(period: Period, resolution: Resolution) -> int:
    """How many intervals of *resolution* the period has (23/24/25 or 92/96/100 a day)."""
    span = local_midnight_utc(period.end) - local_midnight_utc(period.start)
    return span // STEPS[resolution]


def format_instant(instant: datetime) -> str:
    """``YYYY-MM-DDTHH:MMZ``, the way the scenario JSON writes an interval start."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def days_of(period: Period) -> Iterator[date]:
    """The local dates of the period in order."""
    day = period.start
    while day < period.end:
        yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class Timeline:
    """The settlement intervals of a period (spec §5.1): the intervals of the consumption
    series, each with the local date and local hour (0..23) of its start."""

    period: Period
    resolution: Resolution
    start: datetime
    local_dates: tuple[date, ...]
    local_hours: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.local_dates)

    @property
    def step(self) -> timedelta:
        """The length of one interval."""
        return STEPS[self.resolution]

    def index(self, day: date) -> int:
        """The index of the first interval of local date *day* (``len`` for ``period.end``)."""
        return (local_midnight_utc(day) - self.start) // self.step


def timeline(period: Period, resolution: Resolution) -> Timeline:
    """The intervals of *period* at *resolution*, with their local dates and hours.

    On the autumn day UTC 00:00 and 01:00 both have local hour 2; on the spring day no
    interval has local hour 2.
    """
    step = STEPS[resolution]
    dates: list[date] = []
    hours: list[int] = []
    for day in days_of(period):
        instant, end = local_midnight_utc(day), local_midnight_utc(day + timedelta(days=1))
        while instant < end:
            dates.append(day)
            hours.append(instant.astimezone(DANISH_TZ).hour)
            instant += step
    return Timeline(
        period, resolution, local_midnight_utc(period.start), tuple(dates), tuple(hours)
    )


# --- rounding ----------------------------------------------------------------------------------


def round_money(amount: Decimal | Fraction) -> Decimal:
    """Round to 2 decimals half up, ties away from zero (``1.025 → 1.03``, ``-0.425 → -0.43``).

    Exact for any ``Decimal`` or ``Fraction``; a zero result is ``0.00``, never ``-0.00``.
    """
    exact = Fraction(amount) * 100
    magnitude = abs(exact)
    cents, remainder = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * remainder >= magnitude.denominator:
        cents += 1
    return Decimal(-cents if exact < 0 else cents).scaleb(-_MONEY_PLACES, context=EXACT)


def round_places(amount: Decimal | Fraction, places: int) -> Decimal:
    """Round to *places* decimals half up, ties away from zero, exactly (the rule of
    :func:`round_money` at another precision)."""
    exact = Fraction(amount) * 10**places
    magnitude = abs(exact)
    units, remainder = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * remainder >= magnitude.denominator:
        units += 1
    return Decimal(-units if exact < 0 else units).scaleb(-places, context=EXACT)


def _places_ok(value: Decimal, places: int) -> bool:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity
        return False
    return exponent >= -places or value == value.quantize(Decimal(1).scaleb(-places), context=EXACT)


# --- versions ----------------------------------------------------------------------------------


class _Versioned(Protocol):
    @property
    def valid_from(self) -> date: ...


V = TypeVar("V", bound=_Versioned)


def _daily(versions: Sequence[V], period: Period, name: str) -> dict[date, V]:
    ordered = sorted(versions, key=lambda v: v.valid_from)
    starts = [v.valid_from for v in ordered]
    daily: dict[date, V] = {}
    for day in days_of(period):
        position = bisect.bisect_right(starts, day)
        if position == 0:
            raise BadScenario(f"{name}: no version valid on {day.isoformat()}")
        daily[day] = ordered[position - 1]
    return daily


def _per_interval(tl: Timeline, versions: Sequence[PriceVersion], name: str) -> tuple[Decimal, ...]:
    daily = _daily(versions, tl.period, name)
    return tuple(daily[day].dkk for day in tl.local_dates)


@dataclass(frozen=True)
class _EnergyVersion:
    valid_from: date
    fixed: bool
    dkk: Decimal


def _energy_versions(charges: Charges) -> list[_EnergyVersion]:
    """A spot product's margins and a fixed-price product's prices as one versioned price:
    on a local date the version with the greatest ``valid_from`` applies, either kind."""
    return [_EnergyVersion(v.valid_from, False, v.dkk) for v in charges.supplier_margin] + [
        _EnergyVersion(v.valid_from, True, v.dkk) for v in charges.fixed_price
    ]


def _energy_name(charges: Charges) -> str:
    if charges.fixed_price and charges.supplier_margin:
        return "charges.supplier_margin/fixed_price"
    return "charges.fixed_price" if charges.fixed_price else "charges.supplier_margin"


def spot_needed(period: Period, charges: Charges) -> bool:
    """Whether some local date of *period* is spot-priced (has a supplier margin in force)."""
    if not charges.fixed_price:
        return True
    daily = _daily(_energy_versions(charges), period, _energy_name(charges))
    return not all(v.fixed for v in daily.values())


# --- the price table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalPrices:
    """Every per-kWh price (DKK/kWh) of each settlement interval, versions resolved by local
    date, the grid tariff by local hour, the spot price mapped to the consumption resolution.
    The one table that both :func:`settle` and the bulk path multiply quantities with.
    An interval is spot-priced (spot + margin) or fixed-priced, by the energy price version
    in force on its local date (``energy_price``, the kind in ``fixed``); ``spot`` is None
    when no interval is spot-priced and no solar export needs it."""

    spot: tuple[Decimal, ...] | None
    energy_price: tuple[Decimal, ...]  # the supplier margin, or the fixed price
    grid_tariff: tuple[Decimal, ...]
    system_tariff: tuple[Decimal, ...]
    transmission_tariff: tuple[Decimal, ...]
    electricity_tax: tuple[Decimal, ...]
    fixed: tuple[bool, ...] | None = None  # None: every interval spot-priced

    def energy_lines(self) -> tuple[tuple[str, tuple[Decimal, ...], tuple[int, ...] | None], ...]:
        """The per-kWh lines on the import, in line order, as ``(code, price per interval,
        weights)``: ``spot_energy`` and ``supplier_margin`` when some interval is
        spot-priced, ``fixed_price_energy`` when some is fixed-priced (each priced 0 on the
        other kind's intervals, its quantity the import times ``weights``, None: all), then
        the three tariffs (``electricity_tax`` also depends on elvarme)."""
        energy: list[tuple[str, tuple[Decimal, ...], tuple[int, ...] | None]] = []
        mask = self.fixed
        if mask is None or not all(mask):
            assert self.spot is not None  # check_common: spot-priced days need spot
            weights = None if mask is None else tuple(0 if f else 1 for f in mask)
            spot, margin = self.spot, self.energy_price
            if mask is not None:
                spot = tuple(_ZERO if f else p for p, f in zip(spot, mask, strict=True))
                margin = tuple(_ZERO if f else p for p, f in zip(margin, mask, strict=True))
            energy += [("spot_energy", spot, weights), ("supplier_margin", margin, weights)]
        if mask is not None and any(mask):
            prices = zip(self.energy_price, mask, strict=True)
            fixed = tuple(p if f else _ZERO for p, f in prices)
            weights = None if all(mask) else tuple(1 if f else 0 for f in mask)
            energy.append((FIXED_LINE, fixed, weights))
        return (
            *energy,
            ("grid_tariff", self.grid_tariff, None),
            ("system_tariff", self.system_tariff, None),
            ("transmission_tariff", self.transmission_tariff, None),
        )

    def line_codes(self) -> tuple[str, ...]:
        """Every line of a settlement with these prices, in result order (without solar)."""
        return (
            *(code for code, _, _ in self.energy_lines()),
            "electricity_tax",
            "grid_subscription",
            "supplier_subscription",
        )


def spot_prices(tl: Timeline, spot: Series) -> tuple[Decimal, ...]:
    """The spot price of every settlement interval (spec §5.1).

    Same resolution: the spot value. PT15M consumption, PT1H spot: the price of the UTC hour
    containing the quarter. PT1H consumption, PT15M spot: the exact mean of the four quarters.
    """
    values = spot.values
    if spot.resolution == tl.resolution:
        return values
    if tl.resolution == "PT15M":
        return tuple(values[i // 4] for i in range(len(tl)))
    with localcontext(EXACT):
        return tuple(
            (values[4 * i] + values[4 * i + 1] + values[4 * i + 2] + values[4 * i + 3]) * _QUARTER
            for i in range(len(tl))
        )


def _grid_price(version: TariffVersion, hour: int) -> Decimal:
    if version.hourly is not None:
        return version.hourly[hour]  # position = local hour + 1
    assert version.flat is not None  # guaranteed by check_charges
    return version.flat


def interval_prices(tl: Timeline, spot: Series | None, charges: Charges) -> IntervalPrices:
    """Resolve every per-kWh price for every interval of *tl* (spec §5.1, §5.3); a
    fixed-price product's price like any other versioned price, by local date."""
    grid_daily = _daily(charges.grid_tariff, tl.period, "charges.grid_tariff")
    energy = _daily(_energy_versions(charges), tl.period, _energy_name(charges))
    return IntervalPrices(
        spot=None if spot is None else spot_prices(tl, spot),
        energy_price=tuple(energy[day].dkk for day in tl.local_dates),
        fixed=tuple(energy[day].fixed for day in tl.local_dates) if charges.fixed_price else None,
        grid_tariff=tuple(
            _grid_price(grid_daily[day], hour)
            for day, hour in zip(tl.local_dates, tl.local_hours, strict=True)
        ),
        system_tariff=_per_interval(tl, charges.system_tariff, "charges.system_tariff"),
        transmission_tariff=_per_interval(
            tl, charges.transmission_tariff, "charges.transmission_tariff"
        ),
        electricity_tax=_per_interval(tl, charges.electricity_tax, "charges.electricity_tax"),
    )


def reduced_tax_prices(tl: Timeline, elvarme: Elvarme) -> tuple[Decimal, ...]:
    """The reduced electricity tax (elvarme, spec §5.7) of every interval of *tl* from the
    registration's date on; 0 before it (unused: those intervals pay the normal rate)."""
    since = elvarme.from_date
    if since is None or since <= tl.period.start:
        return _per_interval(tl, elvarme.reduced_electricity_tax, "elvarme.reduced_electricity_tax")
    if since >= tl.period.end:
        return tuple(Decimal(0) for _ in range(len(tl)))
    later = _per_interval(
        timeline(Period(since, tl.period.end), tl.resolution),
        elvarme.reduced_electricity_tax,
        "elvarme.reduced_electricity_tax",
    )
    return (_ZERO,) * (len(tl) - len(later)) + later


# --- subscriptions -----------------------------------------------------------------------------


def subscription_lines(period: Period, charges: Charges) -> tuple[Line, Line]:
    """``grid_subscription`` and ``supplier_subscription`` (spec §5.4): per local date the
    monthly price / days of that month, summed exactly as fractions and rounded once."""
    days = (period.end - period.start).days
    lines: list[Line] = []
    for code, versions in (
        ("grid_subscription", charges.grid_subscription),
        ("supplier_subscription", charges.supplier_subscription),
    ):
        daily = _daily(versions, period, f"charges.{code}")
        total = sum(
            (
                Fraction(daily[day].dkk) / calendar.monthrange(day.year, day.month)[1]
                for day in days_of(period)
            ),
            Fraction(0),
        )
        lines.append(Line(code, None, days, round_money(total)))
    return lines[0], lines[1]


# --- fees ---------------------------------------------------------------------------------------


def _fees_in(period: Period, charges: Charges, code: str) -> list[Fee]:
    return [f for f in charges.fees if f.code == code and period.start <= f.day < period.end]


def fee_codes(period: Period, charges: Charges) -> tuple[str, ...]:
    """The fee lines of a settlement of *period* (in :data:`FEE_LINES` order): those with a
    fee dated inside it. A period without fees has no fee line, so every settlement without
    fees keeps the lines of spec §6."""
    return tuple(code for code in FEE_LINES if _fees_in(period, charges, code))


def fee_lines(period: Period, charges: Charges, codes: Sequence[str]) -> tuple[Line, ...]:
    """Each fee line of *codes*: Σ price x pieces of its fees dated in *period*, rounded
    once (0.00 for a part of the period without them, e.g. one invoice of several)."""
    with localcontext(EXACT):
        lines = []
        for code in codes:
            fees = _fees_in(period, charges, code)
            total = sum((f.dkk_per_piece * f.pieces for f in fees), _ZERO)
            lines.append(Line(code, None, None, round_money(total)))
        return tuple(lines)


def fee_amounts(period: Period, charges: Charges) -> tuple[ChargeAmount, ...]:
    """What each fee charge (owner, D02, id) dated in *period* comes to, rounded half up to 6
    decimals like every charge amount (a fee is a whole number of pieces at a price of at most
    6 decimals, so this is exact), in line order, then by charge."""
    totals: dict[tuple[str, str, str, str], Decimal] = {}
    with localcontext(EXACT):
        for code in FEE_LINES:
            for fee in sorted(_fees_in(period, charges, code), key=lambda f: f.charge_id):
                key = (code, fee.owner_gln, fee.charge_type, fee.charge_id)
                totals[key] = totals.get(key, _ZERO) + fee.dkk_per_piece * fee.pieces
    return tuple(
        ChargeAmount(*key, None, None, round_places(amount, CHARGE_PLACES))
        for key, amount in totals.items()
    )


# --- the linked charges one by one ------------------------------------------------------------

CHARGE_PLACES = 6  # what a charge's amount is rounded to (reconciliation, not the invoice)
PER_KWH_PARTS = ("grid_tariff", "system_tariff", "transmission_tariff", "electricity_tax")


def _part_price(version: PartVersion, hour: int) -> Decimal | None:
    if version.hourly is not None:
        return version.hourly[hour]
    return version.flat


def part_prices(tl: Timeline, part: ChargePart) -> tuple[Decimal | None, ...]:
    """A per-kWh charge part's price of every interval of *tl* (its factor applied), None
    where it is not linked."""
    daily = _daily(part.versions, tl.period, f"charges.parts {part.charge_id}")
    return tuple(
        _part_price(daily[day], hour)
        for day, hour in zip(tl.local_dates, tl.local_hours, strict=True)
    )


def subscription_part(period: Period, part: ChargePart) -> ChargeAmount:
    """A subscription part (spec §5.4 for one charge): per linked local date the monthly
    price / days of that month, summed exactly, rounded to 6 decimals."""
    daily = _daily(part.versions, period, f"charges.parts {part.charge_id}")
    total, days = Fraction(0), 0
    for day in days_of(period):
        price = daily[day].flat
        if price is None:
            continue
        days += 1
        total += Fraction(price) / calendar.monthrange(day.year, day.month)[1]
    return ChargeAmount(
        part.code, part.owner_gln, part.charge_type, part.charge_id, None, days,
        round_places(total, CHARGE_PLACES),
    )  # fmt: skip


def _charge_amounts(
    tl: Timeline, period: Period, imports: Sequence[Decimal], tax: Sequence[Decimal],
    charges: Charges,
) -> tuple[ChargeAmount, ...]:  # fmt: skip
    """What each linked charge of *charges* comes to over *period*: a tariff Σ import x its
    price over the intervals it is linked in, the electricity tax the tax of those intervals
    (with elvarme, the reduced rate above the threshold), a subscription its days' prices.
    The parts of a line add up to its exact amount before rounding."""
    lo, hi = tl.index(period.start), tl.index(period.end)
    out: list[ChargeAmount] = []
    for part in charges.parts:
        if part.code not in PER_KWH_PARTS:
            out.append(subscription_part(period, part))
            continue
        prices = part_prices(tl, part)[lo:hi]
        quantity, amount = _ZERO, _ZERO
        for q, t, price in zip(imports[lo:hi], tax[lo:hi], prices, strict=True):
            if price is None:
                continue
            quantity += q
            amount += t if part.code == "electricity_tax" else q * price
        out.append(
            ChargeAmount(
                part.code, part.owner_gln, part.charge_type, part.charge_id, quantity, None,
                round_places(amount, CHARGE_PLACES),
            )
        )  # fmt: skip
    return tuple(out)


# --- documents ---------------------------------------------------------------------------------


def make_document(
    period: Period, consumption_kwh: Decimal, lines: Sequence[Line], vat_rate: Decimal
) -> Document:
    """A document from its rounded lines: subtotal = Σ lines, VAT = round(subtotal * rate),
    total = subtotal + VAT (spec §5.6)."""
    with localcontext(EXACT):
        subtotal = sum((line.amount for line in lines), Decimal("0.00"))
        vat = round_money(Fraction(subtotal) * Fraction(vat_rate))
        return Document(period, consumption_kwh, tuple(lines), subtotal, vat, subtotal + vat)


def correction_of(corrected: Document, original: Document) -> Document:
    """Corrected minus original, figure by figure (spec §5.8): rounded line - rounded line,
    quantities, days (:func:`~.model.lines_minus`), consumption, subtotal, VAT and total.
    Telescopes exactly."""
    if [line.code for line in corrected.lines] != [line.code for line in original.lines]:
        raise ValueError("a correction needs documents with the same lines")
    with localcontext(EXACT):
        lines = lines_minus(corrected.lines, original.lines)
        return Document(
            corrected.period,
            corrected.consumption_kwh - original.consumption_kwh,
            lines,
            corrected.subtotal - original.subtotal,
            corrected.vat - original.vat,
            corrected.total - original.total,
        )


def credit_note(invoice: Document) -> Document:
    """The credit note of an invoice (spec §5.9): every figure negated, its own VAT kept."""
    with localcontext(EXACT):
        lines = tuple(
            Line(
                line.code,
                None if line.quantity_kwh is None else -line.quantity_kwh,
                None if line.days is None else -line.days,
                -line.amount,
            )
            for line in invoice.lines
        )
        return Document(
            invoice.period,
            -invoice.consumption_kwh,
            lines,
            -invoice.subtotal,
            -invoice.vat,
            -invoice.total,
        )


def _optional_sum(values: Sequence[Decimal | None]) -> Decimal | None:
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), _ZERO)


def combine(period: Period, documents: Sequence[Document]) -> Document:
    """The sums over *documents* of every figure, line by line (spec §5.9's top level)."""
    with localcontext(EXACT):
        first = documents[0]
        lines = []
        for k, line in enumerate(first.lines):
            same = [doc.lines[k] for doc in documents]
            days = [s.days for s in same]
            lines.append(
                Line(
                    line.code,
                    _optional_sum([s.quantity_kwh for s in same]),
                    None if any(d is None for d in days) else sum(d for d in days if d is not None),
                    sum((s.amount for s in same), Decimal("0.00")),
                )
            )
        return Document(
            period,
            sum((doc.consumption_kwh for doc in documents), _ZERO),
            tuple(lines),
            sum((doc.subtotal for doc in documents), Decimal("0.00")),
            sum((doc.vat for doc in documents), Decimal("0.00")),
            sum((doc.total for doc in documents), Decimal("0.00")),
        )


def aconto_result(total: Decimal, aconto: Aconto) -> AcontoResult:
    """Spec §5.10: ``difference = total - paid`` (positive: the customer paid too little),
    ``amount_due = difference + next_prepayment`` (negative: money back)."""
    with localcontext(EXACT):
        difference = total - aconto.paid
        return AcontoResult(
            aconto.paid, difference, aconto.next_prepayment, difference + aconto.next_prepayment
        )


# --- the calculation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Flows:
    """Per interval: gross consumption, import, export (with production) and the electricity
    tax amount (which depends on the elvarme counter, so on everything before it)."""

    consumption: tuple[Decimal, ...]
    imports: tuple[Decimal, ...]
    exports: tuple[Decimal, ...] | None
    tax: tuple[Decimal, ...]


def _flows(
    tl: Timeline,
    consumption: Series,
    production: Series | None,
    prices: IntervalPrices,
    elvarme: Elvarme | None,
) -> _Flows:
    cons = consumption.values
    exports: tuple[Decimal, ...] | None = None
    if production is None:
        imports = cons
    else:
        nets = [c - p for c, p in zip(cons, production.values, strict=True)]
        imports = tuple(max(net, _ZERO) for net in nets)
        exports = tuple(max(-net, _ZERO) for net in nets)
    if elvarme is None:
        tax = tuple(q * t for q, t in zip(imports, prices.electricity_tax, strict=True))
    else:
        reduced_prices = reduced_tax_prices(tl, elvarme)
        threshold = elvarme.threshold_kwh
        # Registered inside the period: normal tax before its date, the counter from it on.
        since = max(tl.period.start, elvarme.from_date or tl.period.start)
        counter: dict[int, Decimal] = {since.year: elvarme.consumed_kwh_before_period}
        amounts: list[Decimal] = []
        for q, day, normal, reduced_price in zip(
            imports, tl.local_dates, prices.electricity_tax, reduced_prices, strict=True
        ):
            if day < since:
                amounts.append(q * normal)
                continue
            before = counter.get(day.year, _ZERO)
            standard = min(q, max(_ZERO, threshold - before))
            amounts.append(standard * normal + (q - standard) * reduced_price)
            counter[day.year] = before + q
        tax = tuple(amounts)
    return _Flows(cons, imports, exports, tax)


def _dot(quantities: Sequence[Decimal], prices: Sequence[Decimal]) -> Decimal:
    return sum((q * p for q, p in zip(quantities, prices, strict=True)), _ZERO)


def _document(
    tl: Timeline,
    period: Period,
    flows: _Flows,
    prices: IntervalPrices,
    charges: Charges,
    vat_rate: Decimal,
) -> Document:
    lo, hi = tl.index(period.start), tl.index(period.end)
    imports = flows.imports[lo:hi]
    quantity = sum(imports, _ZERO)
    lines = [
        Line(
            code,
            quantity if weights is None else _dot(imports, [Decimal(w) for w in weights[lo:hi]]),
            None,
            round_money(_dot(imports, values[lo:hi])),
        )
        for code, values, weights in prices.energy_lines()
    ]
    lines.append(Line("electricity_tax", quantity, None, round_money(sum(flows.tax[lo:hi], _ZERO))))
    lines.extend(subscription_lines(period, charges))
    # Which fee lines: those of the whole settled period, so that its invoice periods (an
    # erroneous switch's) have the same lines.
    lines.extend(fee_lines(period, charges, fee_codes(tl.period, charges)))
    if flows.exports is not None:
        exports = flows.exports[lo:hi]
        assert prices.spot is not None  # check_scenario: production needs spot
        credit = -_dot(exports, prices.spot[lo:hi])
        lines.append(Line(SOLAR_LINE, sum(exports, _ZERO), None, round_money(credit)))
    return make_document(period, sum(flows.consumption[lo:hi], _ZERO), lines, vat_rate)


def _result(
    scenario: Scenario,
    doc: Document,
    aconto: AcontoResult | None = None,
    documents: tuple[Document, ...] | None = None,
) -> Result:
    return Result(
        scenario.kind,
        scenario.period,
        doc.consumption_kwh,
        doc.lines,
        doc.subtotal,
        doc.vat,
        doc.total,
        aconto=aconto,
        documents=documents,
    )


def settle(scenario: Scenario) -> Result:
    """Settle one metering point for one period (spec §5): a settlement, a correction
    (corrected minus original, figure by figure) or the credit notes of an erroneous switch.

    Raises :class:`BadScenario` for a scenario that breaks a rule of the specification.
    """
    check_scenario(scenario)
    with localcontext(EXACT):
        tl = timeline(scenario.period, scenario.consumption.resolution)
        prices = interval_prices(tl, scenario.spot, scenario.charges)

        def document(period: Period, consumption: Series) -> Document:
            flows = _flows(tl, consumption, scenario.production, prices, scenario.elvarme)
            return _document(tl, period, flows, prices, scenario.charges, scenario.vat_rate)

        if scenario.kind == "correction":
            assert scenario.corrected_consumption is not None  # check_scenario
            original = document(scenario.period, scenario.consumption)
            corrected = document(scenario.period, scenario.corrected_consumption)
            return _result(scenario, correction_of(corrected, original))
        if scenario.kind == "erroneous_switch":
            # One pass over the whole period, so the elvarme counter runs on from one
            # original invoice to the next.
            flows = _flows(tl, scenario.consumption, scenario.production, prices, scenario.elvarme)
            notes = tuple(
                credit_note(_document(tl, part, flows, prices, scenario.charges, scenario.vat_rate))
                for part in scenario.invoice_periods or (scenario.period,)
            )
            return _result(scenario, combine(scenario.period, notes), documents=notes)
        flows = _flows(tl, scenario.consumption, scenario.production, prices, scenario.elvarme)
        invoice = _document(tl, scenario.period, flows, prices, scenario.charges, scenario.vat_rate)
        aconto = None if scenario.aconto is None else aconto_result(invoice.total, scenario.aconto)
        result = _result(scenario, invoice, aconto=aconto)
        if scenario.charges.parts or scenario.charges.fees:
            amounts = _charge_amounts(
                tl, scenario.period, flows.imports, flows.tax, scenario.charges
            )
            fees = fee_amounts(scenario.period, scenario.charges)
            result = replace(result, charge_amounts=amounts + fees)
        return result


# --- checks ------------------------------------------------------------------------------------


def check_period(period: Period, name: str = "period") -> None:
    """``end`` after ``start``."""
    if period.end <= period.start:
        raise BadScenario(
            f"{name}: end {period.end.isoformat()} is not after start {period.start.isoformat()}"
        )


def check_series(name: str, series: Series, period: Period, kwh: bool) -> None:
    """A materialised series covers the period exactly; kWh have ≤ 3 decimals, never negative."""
    if series.resolution not in STEPS:
        raise BadScenario(f"{name}: unknown resolution {series.resolution!r}")
    start = local_midnight_utc(period.start)
    if series.start != start:
        raise BadScenario(
            f"{name}: starts at {format_instant(series.start)}, the period at "
            f"{format_instant(start)}"
        )
    expected = interval_count(period, series.resolution)
    if len(series.values) != expected:
        raise BadScenario(
            f"{name}: {len(series.values)} values for the {expected} "
            f"{series.resolution} intervals of the period"
        )
    step = STEPS[series.resolution]
    for i, value in enumerate(series.values):
        if not value.is_finite() or (kwh and (value < 0 or not _places_ok(value, _KWH_PLACES))):
            raise BadScenario(
                f"{name}: value {value} at {format_instant(start + i * step)} is not "
                + ("a kWh quantity (≥ 0, at most 3 decimals)" if kwh else "a finite decimal")
            )


def _check_versions(name: str, versions: Sequence[_Versioned], period: Period) -> None:
    if not versions:
        raise BadScenario(f"{name}: no versions")
    starts = sorted(v.valid_from for v in versions)
    for a, b in itertools.pairwise(starts):
        if a == b:
            raise BadScenario(f"{name}: two versions valid from {a.isoformat()}")
    if starts[0] > period.start:
        raise BadScenario(
            f"{name}: no version valid on {period.start.isoformat()} "
            f"(the first is valid from {starts[0].isoformat()})"
        )


def check_charges(charges: Charges, period: Period) -> None:
    """Every charge has a version valid on every local date of the period, no two versions
    share a ``valid_from``, grid tariff versions are either 24 positions or flat; a
    fixed-price product has a fixed price where a spot product has a margin (one versioned
    energy price of either kind)."""
    _check_versions(_energy_name(charges), _energy_versions(charges), period)
    for name in (
        "grid_tariff",
        "system_tariff",
        "transmission_tariff",
        "electricity_tax",
        "grid_subscription",
        "supplier_subscription",
    ):
        _check_versions(f"charges.{name}", getattr(charges, name), period)
    for fee in charges.fees:
        if fee.code not in FEE_LINES:
            raise BadScenario(f"charges.fees {fee.charge_id}: unknown line {fee.code!r}")
        if not fee.dkk_per_piece.is_finite() or not _places_ok(fee.dkk_per_piece, 6):
            raise BadScenario(f"charges.fees {fee.charge_id}: price {fee.dkk_per_piece}")
        if fee.pieces < 0:
            raise BadScenario(f"charges.fees {fee.charge_id}: {fee.pieces} pieces")
    for version in charges.grid_tariff:
        where = f"charges.grid_tariff (valid from {version.valid_from.isoformat()})"
        if (version.hourly is None) == (version.flat is None):
            raise BadScenario(f"{where}: give exactly one of hourly_dkk_per_kwh and dkk_per_kwh")
        if version.hourly is not None and len(version.hourly) != GRID_POSITIONS:
            raise BadScenario(
                f"{where}: {len(version.hourly)} hourly positions, need {GRID_POSITIONS}"
            )


def check_elvarme(elvarme: Elvarme, period: Period) -> None:
    """Threshold and counter are kWh (≥ 0, ≤ 3 decimals); the reduced rate has versions."""
    for field in ("threshold_kwh", "consumed_kwh_before_period"):
        value: Decimal = getattr(elvarme, field)
        if not value.is_finite() or value < 0 or not _places_ok(value, _KWH_PLACES):
            raise BadScenario(f"elvarme.{field}: {value} is not a kWh quantity")
    since = elvarme.from_date
    if since is not None and since > period.start:
        period = Period(since, max(period.end, since + timedelta(days=1)))
    _check_versions("elvarme.reduced_electricity_tax", elvarme.reduced_electricity_tax, period)


def check_common(period: Period, spot: Series | None, charges: Charges, vat_rate: Decimal) -> None:
    """The checks of the inputs that many metering points can share (period, spot, charges,
    VAT rate); :func:`check_scenario` adds the metering point's own. Only a fixed-price
    product can do without spot prices."""
    check_period(period)
    if not vat_rate.is_finite() or vat_rate < 0:
        raise BadScenario(f"vat_rate: {vat_rate} is not a rate ≥ 0")
    check_charges(charges, period)
    if spot is not None:
        check_series("spot", spot, period, kwh=False)
    elif spot_needed(period, charges):
        raise BadScenario("spot: required unless every day has a fixed_price")


def _check_invoice_periods(parts: Sequence[Period], period: Period) -> None:
    if not parts:
        raise BadScenario("invoice_periods: empty; they must split the period")
    for k, part in enumerate(parts):
        check_period(part, f"invoice_periods[{k}]")
    if parts[0].start != period.start:
        raise BadScenario(
            f"invoice_periods[0]: starts {parts[0].start.isoformat()}, "
            f"the period {period.start.isoformat()}"
        )
    for k in range(1, len(parts)):
        if parts[k].start != parts[k - 1].end:
            raise BadScenario(
                f"invoice_periods[{k}]: starts {parts[k].start.isoformat()}, "
                f"not where the previous one ends ({parts[k - 1].end.isoformat()})"
            )
    if parts[-1].end != period.end:
        raise BadScenario(
            f"invoice_periods[{len(parts) - 1}]: ends {parts[-1].end.isoformat()}, "
            f"the period {period.end.isoformat()}"
        )


def check_scenario(scenario: Scenario) -> None:
    """Raise :class:`BadScenario` unless *scenario* satisfies every rule of spec §4/§7 that
    its model can express (the JSON-level rules are :func:`..scenario.parse_scenario`'s)."""
    kind = scenario.kind
    if kind not in KINDS:
        raise BadScenario(f"kind: unknown kind {kind!r}")
    period = scenario.period
    check_common(period, scenario.spot, scenario.charges, scenario.vat_rate)
    resolution = scenario.consumption.resolution
    check_series("consumption", scenario.consumption, period, kwh=True)
    for name, series in (
        ("production", scenario.production),
        ("corrected_consumption", scenario.corrected_consumption),
    ):
        if series is None:
            continue
        if name == "production" and scenario.spot is None:
            raise BadScenario("spot: required with production (an export earns the spot price)")
        if series.resolution != resolution:
            raise BadScenario(
                f"{name}: resolution {series.resolution}, consumption's is {resolution}"
            )
        check_series(name, series, period, kwh=True)
    if scenario.elvarme is not None:
        check_elvarme(scenario.elvarme, period)
    if scenario.aconto is not None:
        if kind != "settlement":
            raise BadScenario(f"aconto: only with kind settlement, not {kind}")
        for field in ("paid", "next_prepayment"):
            amount: Decimal = getattr(scenario.aconto, field)
            if not amount.is_finite() or not _places_ok(amount, _MONEY_PLACES):
                raise BadScenario(f"aconto.{field}: {amount} is not an amount in øre")
    if kind == "correction" and scenario.corrected_consumption is None:
        raise BadScenario("corrected_consumption: required with kind correction")
    if kind != "correction" and scenario.corrected_consumption is not None:
        raise BadScenario(f"corrected_consumption: only with kind correction, not {kind}")
    if scenario.invoice_periods is not None:
        if kind != "erroneous_switch":
            raise BadScenario(f"invoice_periods: only with kind erroneous_switch, not {kind}")
        _check_invoice_periods(scenario.invoice_periods, period)


__all__ = [
    "DANISH_TZ",
    "EXACT",
    "LINE_CODES",
    "BadScenario",
    "IntervalPrices",
    "Timeline",
    "aconto_result",
    "check_charges",
    "check_common",
    "check_elvarme",
    "check_period",
    "check_scenario",
    "check_series",
    "combine",
    "correction_of",
    "credit_note",
    "days_of",
    "fee_amounts",
    "fee_codes",
    "fee_lines",
    "format_instant",
    "interval_count",
    "interval_prices",
    "local_midnight_utc",
    "make_document",
    "part_prices",
    "reduced_tax_prices",
    "round_money",
    "round_places",
    "settle",
    "spot_needed",
    "spot_prices",
    "subscription_lines",
    "subscription_part",
    "timeline",
]
