"""Settlement of many metering points at once: shared period, spot and charges, own data.

What a monthly run needs: one matrix of consumption in integer Wh (metering points by
intervals) and the prices once. The result is, per metering point, exactly the
:class:`~wattline_settlement.domain.model.Result` that :func:`engine.settle` gives for the same
scenario — the same numbers, not approximately.

How the integers map to the exact (Decimal) path:

* Quantities are Wh = kWh * 1000, exact because a kWh has at most 3 decimals.
* Prices come from :func:`engine.interval_prices`, the table :func:`engine.settle` uses
  (versions by local date, grid positions by local hour, hourly means of quarter prices), so
  both paths resolve prices in one place. Each line's price vector is written as integers
  ``P`` over one denominator ``D`` (the lcm of its prices' denominators: at most 10⁶ for
  6-decimal prices, 4·10⁶ for a mean of four quarters).
* A line's exact amount ``Σ kWh·price`` is ``Σ Wh·P / (1000·D)`` DKK: an integer numerator,
  so to round it once to øre is an integer division by ``10·D`` with ties away from zero —
  the number :func:`engine.round_money` gives.
* Subscriptions and fees (D02) do not depend on consumption: computed once by the engine
  for all rows (``engine.subscription_lines``, ``engine.fee_lines``, ``engine.fee_amounts``).
* VAT is ``subtotal_øre * n / d`` (``vat_rate = n/d``), rounded the same way.
* Production (net per interval, ``solar_export_credit``) and elvarme (the yearly counter is a
  cumulative sum per local calendar year) are vectorised too; an elvarme registration from a
  date inside the period goes through the Decimal path.

Rows that go through :func:`engine.settle` instead (same result, only slower) are listed in
``BulkSettlement.decimal_rows``: a row whose sums could leave int64 (guarded from its peak Wh,
the number of intervals and the largest scaled price: only absurd quantities, e.g. 2**52 Wh in
one interval) and every row when a price has so many decimals that its denominator does not
fit. Corrections and erroneous switches are per-metering-point events, not runs: use
:func:`engine.settle` for them (a correction is ``engine.correction_of`` of two settlements).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import gcd, lcm
from typing import Any

import numpy as np
import numpy.typing as npt

from wattline_settlement.domain import engine
from wattline_settlement.domain.model import (
    FEE_LINES,
    SOLAR_LINE,
    Aconto,
    ChargeAmount,
    Charges,
    Elvarme,
    Line,
    Period,
    PriceVersion,
    Resolution,
    Result,
    Scenario,
    Series,
)

Int64Array = npt.NDArray[np.int64]

# Every sum stays below 2**61 in magnitude and every denominator below 2**56, so the
# rounding's 2·|x| + 10·D cannot overflow int64.
_LIMIT = 2**61
_MAX_DENOMINATOR = 2**56
_SUBSCRIPTIONS = ("grid_subscription", "supplier_subscription")
_NO_KWH = (*_SUBSCRIPTIONS, *FEE_LINES)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class BulkSettlement:
    """Many metering points settled for one period, as integer arrays (one row each).

    ``codes`` are the line codes in result order (with ``solar_export_credit`` last when
    production was given). Money is in øre, quantities in Wh. :meth:`result` builds the
    :class:`Result` of one row, equal to :func:`engine.settle`'s for that metering point.
    """

    period: Period
    codes: tuple[str, ...]
    consumption_wh: Int64Array  # (rows,) gross consumption
    quantity_wh: Int64Array  # (rows, lines): Σ import; Σ export for the solar line; 0 for subs
    days: int  # of each subscription line
    amount_ore: Int64Array  # (rows, lines)
    subtotal_ore: Int64Array  # (rows,)
    vat_ore: Int64Array  # (rows,)
    total_ore: Int64Array  # (rows,)
    aconto: tuple[Aconto | None, ...] | None = None
    decimal_rows: tuple[int, ...] = ()  # the rows settled by engine.settle (see module doc)
    # The linked charges one by one (charges with parts): (code, owner, type, id) per part;
    # a per-kWh part's Wh and exact amount Σ Wh·P over 1000·D (its denominator), a
    # subscription part shared by every row, and the rows the Decimal path settled.
    part_specs: tuple[tuple[str, str, str, str], ...] = ()
    part_quantity_wh: Int64Array | None = None  # (rows, parts)
    part_numerator: Int64Array | None = None  # (rows, parts)
    part_denominators: tuple[int, ...] = ()
    part_shared: dict[int, ChargeAmount] | None = None
    part_rows: dict[int, tuple[ChargeAmount, ...]] | None = None
    # The fees' per-charge amounts, the same for every row (after the parts').
    fee_amounts: tuple[ChargeAmount, ...] = ()

    def __len__(self) -> int:
        return int(self.amount_ore.shape[0])

    def result(self, row: int) -> Result:
        """The :class:`Result` of metering point *row* (kind ``settlement``)."""
        lines = tuple(
            Line(
                code,
                None if code in _NO_KWH else _kwh(self.quantity_wh[row, k]),
                self.days if code in _SUBSCRIPTIONS else None,
                _dkk(self.amount_ore[row, k]),
            )
            for k, code in enumerate(self.codes)
        )
        total = _dkk(self.total_ore[row])
        aconto = None if self.aconto is None else self.aconto[row]
        result = Result(
            "settlement",
            self.period,
            _kwh(self.consumption_wh[row]),
            lines,
            _dkk(self.subtotal_ore[row]),
            _dkk(self.vat_ore[row]),
            total,
            aconto=None if aconto is None else engine.aconto_result(total, aconto),
        )
        if not self.part_specs and not self.fee_amounts:
            return result
        return replace(result, charge_amounts=self._charge_amounts(row))

    def _charge_amounts(self, row: int) -> tuple[ChargeAmount, ...]:
        if self.part_rows and row in self.part_rows:
            return self.part_rows[row]
        assert self.part_quantity_wh is not None and self.part_numerator is not None
        shared = self.part_shared or {}
        out = []
        for k, (code, owner, charge_type, charge_id) in enumerate(self.part_specs):
            if k in shared:
                out.append(shared[k])
                continue
            exact = Fraction(int(self.part_numerator[row, k]), 1000 * self.part_denominators[k])
            out.append(
                ChargeAmount(
                    code, owner, charge_type, charge_id, _kwh(self.part_quantity_wh[row, k]),
                    None, engine.round_places(exact, engine.CHARGE_PLACES),
                )
            )  # fmt: skip
        return (*out, *self.fee_amounts)

    def results(self) -> list[Result]:
        """Every row's :class:`Result`, in row order."""
        return [self.result(row) for row in range(len(self))]

    def figures(self) -> Figures:
        """Every row's figures as integer arrays, for rendering many rows at once: each equal
        to the :class:`Result`'s for the rows in ``Figures.rows`` (see there)."""
        rows = len(self)
        # Rows whose figures :meth:`result` alone gives: settled by the Decimal path, or
        # beyond the integer bounds below (absurd quantities only).
        slow = np.zeros(rows, np.bool_)
        slow[list(self.decimal_rows)] = True
        if self.aconto is not None:
            slow[:] = True
        per_kwh = [k for k, code in enumerate(self.codes) if code not in _NO_KWH]
        unit = np.zeros((rows, len(self.codes)), np.int64)
        unit_negative = np.zeros((rows, len(self.codes)), np.bool_)
        unit_defined = np.zeros((rows, len(self.codes)), np.bool_)
        for k in per_kwh:
            magnitude, negative, defined, ok = _unit_prices(
                self.amount_ore[:, k], self.quantity_wh[:, k]
            )
            unit[:, k], unit_negative[:, k], unit_defined[:, k] = magnitude, negative, defined
            slow |= ~ok
        parts = len(self.part_specs)
        charge = np.zeros((rows, parts), np.int64)
        shared = self.part_shared or {}
        for k in range(parts):
            if k in shared:
                continue
            assert self.part_numerator is not None
            charge[:, k], ok = _charge_units(self.part_numerator[:, k], self.part_denominators[k])
            slow |= ~ok
        return Figures(
            rows=np.flatnonzero(~slow),
            per_kwh_lines=tuple(per_kwh),
            unit_price_micro=unit,
            unit_price_negative=unit_negative,
            unit_price_defined=unit_defined,
            per_kwh_charges=tuple(k for k in range(parts) if k not in shared),
            charge_micro=charge,
        )


@dataclass(frozen=True)
class Figures:
    """What :meth:`BulkSettlement.figures` adds to the settlement's arrays, for the rows in
    ``rows`` (the others: :meth:`BulkSettlement.result`, one by one).

    Lines with a quantity (``per_kwh_lines``, by column) have figures of their own per row;
    a subscription or a fee is the same for every row (it does not depend on consumption).
    Their unit price (``model.unit_price``: amount / kWh to 6 decimals, half even as the
    Decimal quantize) is ``unit_price_micro`` millionths of a DKK in magnitude, negative
    where ``unit_price_negative`` (a negative amount: ``-0.000000`` too), none where not
    ``unit_price_defined`` (no kWh). Of the linked charges, those per kWh
    (``per_kwh_charges``, by part) have their amount per row, ``charge_micro`` millionths
    (``engine.round_places`` to ``CHARGE_PLACES``, half away from zero); a subscription part
    or a fee is shared by every row (``part_shared``, ``fee_amounts``)."""

    rows: Int64Array
    per_kwh_lines: tuple[int, ...]
    unit_price_micro: Int64Array  # (rows, lines)
    unit_price_negative: npt.NDArray[np.bool_]
    unit_price_defined: npt.NDArray[np.bool_]
    per_kwh_charges: tuple[int, ...]
    charge_micro: Int64Array  # (rows, parts)


_INT64_MAX = 2**63 - 1
# Unit prices: the Decimal quotient q = 10·øre / Wh (DKK per kWh) is rounded to 28 digits
# before its quantize to 6 decimals. Off a tie, q is at least 10⁻⁶ / (2·Wh) from it, and the
# 28-digit rounding moves it by at most 5·10⁻²⁷·q: less, while q·Wh = 10·|øre| < 10²⁰ (far
# inside the bound on øre below); a tie itself has under 28 digits. So one exact half-even
# rounding of the integers gives the Decimal's number.
_UNIT_MAX_WH = 10**14
_UNIT_SCALE = 10**7  # øre / Wh to millionths of a DKK per kWh: ·10⁻²·10³·10⁶


def _unit_prices(
    amount_ore: Int64Array, quantity_wh: Int64Array
) -> tuple[Int64Array, npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """``model.unit_price`` of a per-kWh line, per row: (magnitude in millionths, negative,
    defined, within the integer bounds)."""
    magnitude = np.abs(amount_ore)
    ok = (magnitude <= (_INT64_MAX - _UNIT_MAX_WH) // (2 * _UNIT_SCALE)) & (
        quantity_wh < _UNIT_MAX_WH
    )
    defined = quantity_wh != 0
    wh = np.where(defined & ok, quantity_wh, 1)
    scaled = np.where(ok, magnitude, 0) * _UNIT_SCALE
    units, remainder = np.divmod(scaled, wh)
    twice = 2 * remainder
    units += (twice > wh) | ((twice == wh) & (units % 2 == 1))  # half even
    return units, amount_ore < 0, defined, ok


def _charge_units(
    numerator: Int64Array, denominator: int
) -> tuple[Int64Array, npt.NDArray[np.bool_]]:
    """A per-kWh part's exact amount ``numerator / (1000·denominator)`` DKK rounded half away
    from zero to CHARGE_PLACES decimals, in those units; and the rows within int64."""
    scale, divisor = 10**engine.CHARGE_PLACES, 1000 * denominator
    common = gcd(scale, divisor)
    scale, divisor = scale // common, divisor // common
    # _round_div computes 2·|x| + divisor.
    ok = np.abs(numerator) <= (_INT64_MAX - divisor) // (2 * scale)
    return _round_div(np.where(ok, numerator, 0) * scale, divisor), ok


def _dkk(ore: Any) -> Decimal:
    return Decimal(int(ore)).scaleb(-2, context=engine.EXACT)


def _kwh(wh: Any) -> Decimal:
    return Decimal(int(wh)).scaleb(-3, context=engine.EXACT)


def _ore(dkk: Decimal) -> int:
    return int(dkk.scaleb(2, context=engine.EXACT))


def _wh(kwh: Decimal) -> int:
    return int(kwh.scaleb(3, context=engine.EXACT))


@dataclass(frozen=True)
class _Scaled:
    """A price vector as integers over one denominator: ``price[i] = ints[i] / denominator``."""

    ints: Int64Array
    denominator: int
    peak: int  # max |ints|


def _scale(*vectors: Sequence[Decimal]) -> tuple[list[list[int]], int]:
    # Integer ratios in lowest terms, as Fraction would make them, without a Fraction each
    # (a PT15M month is tens of thousands of prices).
    ratios = [[p.as_integer_ratio() for p in vector] for vector in vectors]
    denominator = lcm(1, *{d for vector in ratios for _, d in vector})
    if denominator >= _MAX_DENOMINATOR:
        raise OverflowError("prices with too many decimals for int64")  # caught: Decimal path
    return [[n * (denominator // d) for n, d in vector] for vector in ratios], denominator


def _scaled(values: Sequence[Decimal]) -> _Scaled:
    [ints], denominator = _scale(values)
    return _Scaled(_int64(ints), denominator, max((abs(i) for i in ints), default=0))


def _int64(values: Sequence[int]) -> Int64Array:
    if any(abs(v) >= _LIMIT for v in values):
        raise OverflowError("a scaled price does not fit in int64")  # caught: Decimal path
    return np.asarray(values, dtype=np.int64)


def _round_div(numerator: Int64Array, denominator: int) -> Int64Array:
    """``numerator / denominator`` rounded half away from zero (the §3 rule on integers)."""
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    rounded: Int64Array = np.where(numerator < 0, -magnitude, magnitude).astype(np.int64)
    return rounded


def _matrix(values: Any, columns: int, name: str) -> Int64Array:
    matrix = np.asarray(values)
    if matrix.ndim != 2 or matrix.shape[1] != columns:
        raise engine.BadScenario(
            f"{name}: shape {matrix.shape}, need (metering points, {columns} intervals)"
        )
    if not np.issubdtype(matrix.dtype, np.integer):
        raise engine.BadScenario(f"{name}: integer Wh needed, got {matrix.dtype}")
    if matrix.size and int(matrix.min()) < 0:
        raise engine.BadScenario(f"{name}: negative Wh")
    converted: Int64Array = matrix.astype(np.int64, copy=False)
    return converted


def _per_row(values: Sequence[Any] | None, rows: int, name: str) -> tuple[Any, ...] | None:
    if values is None:
        return None
    if len(values) != rows:
        raise engine.BadScenario(f"{name}: {len(values)} entries for {rows} metering points")
    return tuple(values)


def _whole_wh(kwh: Decimal) -> int | None:
    wh = Fraction(kwh) * 1000
    return int(wh) if wh.denominator == 1 and abs(wh) < _LIMIT else None


def _year_spans(dates: Sequence[date]) -> list[tuple[int, int]]:
    """``[lo, hi)`` index ranges of the intervals of each local calendar year, in order."""
    spans: list[tuple[int, int]] = []
    lo = 0
    for i in range(1, len(dates) + 1):
        if i == len(dates) or dates[i].year != dates[lo].year:
            spans.append((lo, i))
            lo = i
    return spans


def _standard_wh(
    imports: Int64Array, spans: Sequence[tuple[int, int]], threshold: Int64Array, before: Int64Array
) -> Int64Array:
    """Elvarme (spec §5.7): the Wh of each interval taxed at the normal rate. The counter
    before an interval is the year's start value plus the cumulative import before it."""
    standard = np.empty_like(imports)
    for k, (lo, hi) in enumerate(spans):
        part = imports[:, lo:hi]
        start = before[:, None] if k == 0 else np.zeros((imports.shape[0], 1), np.int64)
        counter = start + np.cumsum(part, axis=1) - part
        standard[:, lo:hi] = np.minimum(part, np.maximum(threshold[:, None] - counter, 0))
    return standard


@dataclass(frozen=True)
class _PriceSetup:
    """What settling a period needs of its prices, whatever the consumption: the timeline,
    the interval prices and each line's scaled price vector. The same for every chunk of a
    run with the same prices, so it is made once (:func:`_price_setup` is memoised on its
    immutable inputs; a change of any price is another key)."""

    timeline: engine.Timeline
    prices: engine.IntervalPrices
    part_shared: dict[int, ChargeAmount]
    part_scaled: dict[int, tuple[_Scaled, Int64Array]]
    energy: dict[str, _Scaled]
    tax: _Scaled
    spot: _Scaled | None
    price_peak: int | None  # None: a price does not scale into int64


@lru_cache(maxsize=256)
def _price_setup(
    period: Period, resolution: Resolution, spot: Series | None, charges: Charges, solar: bool
) -> _PriceSetup:
    tl = engine.timeline(period, resolution)
    prices = engine.interval_prices(tl, spot, charges)
    part_shared = {
        k: engine.subscription_part(period, p)
        for k, p in enumerate(charges.parts)
        if p.code not in engine.PER_KWH_PARTS
    }
    part_scaled: dict[int, tuple[_Scaled, Int64Array]] = {}
    energy: dict[str, _Scaled] = {}
    tax = _Scaled(np.zeros(0, np.int64), 1, 0)
    spot_scaled: _Scaled | None = None
    price_peak: int | None = None
    try:
        energy = {code: _scaled(values) for code, values, _ in prices.energy_lines()}
        tax = _scaled(prices.electricity_tax)
        # The solar export earns the spot price, a line of its own for a fixed-price product.
        spot_scaled = None if not solar or prices.spot is None else _scaled(prices.spot)
        extra = [] if spot_scaled is None else [spot_scaled.peak]
        for k, p in enumerate(charges.parts):
            if k in part_shared:
                continue
            values = engine.part_prices(tl, p)
            scaled_part = _scaled([_ZERO if v is None else v for v in values])
            mask = np.asarray([0 if v is None else 1 for v in values], dtype=np.int64)
            part_scaled[k] = (scaled_part, mask)
            extra.append(scaled_part.peak)
        price_peak = max([s.peak for s in energy.values()] + [tax.peak, 1, *extra])
    except OverflowError:
        price_peak = None
    for array in (*(v.ints for v in energy.values()), tax.ints):
        array.setflags(write=False)  # shared by every caller of this setup
    return _PriceSetup(tl, prices, part_shared, part_scaled, energy, tax, spot_scaled, price_peak)


def settle_many(
    consumption_wh: npt.ArrayLike,
    *,
    period: Period,
    resolution: Resolution,
    spot: Series | None,
    charges: Charges,
    vat_rate: Decimal,
    production_wh: npt.ArrayLike | None = None,
    elvarme: Sequence[Elvarme | None] | None = None,
    aconto: Sequence[Aconto | None] | None = None,
) -> BulkSettlement:
    """Settle many metering points of one period with shared spot, charges and VAT rate.

    *consumption_wh*: integer Wh, shape (metering points, intervals of the period at
    *resolution*, in time order from local midnight of ``period.start``), never negative.
    *production_wh*: the same shape, when every row is a solar (E18) customer.
    *elvarme*, *aconto*: one entry (or ``None``) per row.

    Row *i* of the answer equals ``engine.settle`` of the scenario made of row *i* (kind
    ``settlement``), figure by figure. Raises :class:`engine.BadScenario` for bad input.
    """
    engine.check_common(period, spot, charges, vat_rate)
    setup = _price_setup(period, resolution, spot, charges, production_wh is not None)
    tl, prices = setup.timeline, setup.prices
    n = len(tl)
    cons = _matrix(consumption_wh, n, "consumption_wh")
    rows = cons.shape[0]
    prod = None if production_wh is None else _matrix(production_wh, n, "production_wh")
    if prod is not None and prod.shape[0] != rows:
        raise engine.BadScenario(f"production_wh: {prod.shape[0]} rows, consumption has {rows}")
    elv: tuple[Elvarme | None, ...] = _per_row(elvarme, rows, "elvarme") or (None,) * rows
    acontos = _per_row(aconto, rows, "aconto")
    for e in elv:
        if e is not None:
            engine.check_elvarme(e, period)
    if prod is not None and spot is None:
        raise engine.BadScenario("spot: required with production (an export earns the spot price)")

    grid_line, supplier_line = engine.subscription_lines(period, charges)
    fees = engine.fee_lines(period, charges, engine.fee_codes(period, charges))
    codes = (*prices.line_codes(), *(f.code for f in fees))
    if prod is not None:
        codes = (*codes, SOLAR_LINE)
    column = {code: k for k, code in enumerate(codes)}
    quantity = np.zeros((rows, len(codes)), np.int64)
    part_quantity = np.zeros((rows, len(charges.parts)), np.int64)
    part_numerator = np.zeros((rows, len(charges.parts)), np.int64)
    amount = np.zeros((rows, len(codes)), np.int64)
    amount[:, column["grid_subscription"]] = _ore(grid_line.amount)
    amount[:, column["supplier_subscription"]] = _ore(supplier_line.amount)
    for fee in fees:
        amount[:, column[fee.code]] = _ore(fee.amount)

    # A row is vectorised when every sum it needs stays below _LIMIT in magnitude:
    # |Σ Wh·P| <= peak Wh * intervals * max |P|.
    peak = cons.max(axis=1, initial=0)
    if prod is not None:
        peak = np.maximum(peak, prod.max(axis=1, initial=0))
    # An energy line's quantity: the import of its kind's intervals (spot or fixed-priced).
    weights = {
        code: None if w is None else np.asarray(w, dtype=np.int64)
        for code, _, w in prices.energy_lines()
    }
    parts = charges.parts
    part_shared = setup.part_shared
    part_scaled = setup.part_scaled
    energy, tax, spot_scaled = setup.energy, setup.tax, setup.spot
    if setup.price_peak is None:  # prices that do not scale into int64: the Decimal path
        safe = np.zeros(rows, np.bool_)
    else:
        safe = peak <= _LIMIT // (setup.price_peak * max(n, 1))
    decimal_rows = [int(r) for r in np.flatnonzero(~safe)]
    elvarme_groups: dict[tuple[PriceVersion, ...], list[int]] = {}
    for row in (int(r) for r in np.flatnonzero(safe)):
        e = elv[row]
        if e is None:
            continue
        if parts:  # the tax of each charge under elvarme: the Decimal path's
            decimal_rows.append(row)
            continue
        late = e.from_date is not None and e.from_date > period.start  # registered inside
        if (
            late
            or _whole_wh(e.threshold_kwh) is None
            or _whole_wh(e.consumed_kwh_before_period) is None
        ):
            decimal_rows.append(row)
        else:
            elvarme_groups.setdefault(e.reduced_electricity_tax, []).append(row)

    if safe.any():
        # A view, not a copy, in the usual case of every row vectorised.
        rows_v: slice | Int64Array = slice(None) if safe.all() else np.flatnonzero(safe)
        cons_v = cons[rows_v]
        prod_v = None if prod is None else prod[rows_v]
        imp = cons_v if prod_v is None else np.maximum(cons_v - prod_v, 0)
        imported = imp.sum(axis=1)
        for code in (*energy, "electricity_tax"):
            w = weights.get(code)
            quantity[rows_v, column[code]] = imported if w is None else imp @ w
        for code, scaled in energy.items():
            amount[rows_v, column[code]] = _round_div(imp @ scaled.ints, 10 * scaled.denominator)
        if prod_v is not None:
            assert spot_scaled is not None  # checked above
            exp = np.maximum(prod_v - cons_v, 0)
            quantity[rows_v, column[SOLAR_LINE]] = exp.sum(axis=1)
            amount[rows_v, column[SOLAR_LINE]] = -_round_div(
                exp @ spot_scaled.ints, 10 * spot_scaled.denominator
            )
        for k, (scaled_part, mask) in part_scaled.items():
            part_quantity[rows_v, k] = imp @ mask
            part_numerator[rows_v, k] = imp @ scaled_part.ints
        # Elvarme rows are overwritten below (or by the Decimal path).
        amount[rows_v, column["electricity_tax"]] = _round_div(imp @ tax.ints, 10 * tax.denominator)

    for reduced_versions, group in elvarme_groups.items():
        done = _elvarme_tax(tl, prices, reduced_versions, group, elv, cons, prod, peak)
        if done is None:
            decimal_rows.extend(group)
            continue
        vectorised, tax_ore = done
        amount[vectorised, column["electricity_tax"]] = tax_ore
        decimal_rows.extend(sorted(set(group) - set(vectorised)))

    subtotal: Int64Array = amount.sum(axis=1)
    vat = _vat(subtotal, vat_rate)
    total: Int64Array = subtotal + vat

    part_rows: dict[int, tuple[ChargeAmount, ...]] = {}
    for row in sorted(decimal_rows):
        part_rows[row] = _fill_from_engine(
            row, tl, cons, prod, spot, charges, vat_rate, elv[row], codes,
            quantity, amount, subtotal, vat, total,
        )  # fmt: skip

    return BulkSettlement(
        period=period,
        codes=codes,
        consumption_wh=cons.sum(axis=1),
        quantity_wh=quantity,
        days=(period.end - period.start).days,
        amount_ore=amount,
        subtotal_ore=subtotal,
        vat_ore=vat,
        total_ore=total,
        aconto=acontos,
        decimal_rows=tuple(sorted(decimal_rows)),
        part_specs=tuple((p.code, p.owner_gln, p.charge_type, p.charge_id) for p in parts),
        part_quantity_wh=part_quantity,
        part_numerator=part_numerator,
        part_denominators=tuple(
            part_scaled[k][0].denominator if k in part_scaled else 1 for k in range(len(parts))
        ),
        part_shared=part_shared,
        part_rows=part_rows if parts or charges.fees else None,
        fee_amounts=engine.fee_amounts(period, charges),
    )


def _imports(cons: Int64Array, prod: Int64Array | None, rows: Sequence[int]) -> Int64Array:
    if prod is None:
        return cons[rows]
    net: Int64Array = np.maximum(cons[rows] - prod[rows], 0)
    return net


def _elvarme_tax(
    tl: engine.Timeline,
    prices: engine.IntervalPrices,
    reduced_versions: tuple[PriceVersion, ...],
    group: Sequence[int],
    elv: Sequence[Elvarme | None],
    cons: Int64Array,
    prod: Int64Array | None,
    peak: Int64Array,
) -> tuple[list[int], Int64Array] | None:
    """The electricity tax (øre) of elvarme rows sharing one reduced rate: the rows it could
    vectorise and their amounts, or ``None`` when the rates do not scale into int64."""
    reduced = engine.reduced_tax_prices(tl, Elvarme(Decimal(0), Decimal(0), reduced_versions))
    try:
        (normal_ints, reduced_ints), denominator = _scale(prices.electricity_tax, reduced)
        normal, reduced_vec = _int64(normal_ints), _int64(reduced_ints)
    except OverflowError:
        return None
    rate_peak = max([1, *(abs(v) for v in normal_ints), *(abs(v) for v in reduced_ints)])
    span = max(len(tl), 1)
    rows: list[int] = []
    thresholds: list[int] = []
    befores: list[int] = []
    for row in group:
        e = elv[row]
        assert e is not None
        threshold, before = _whole_wh(e.threshold_kwh), _whole_wh(e.consumed_kwh_before_period)
        assert threshold is not None and before is not None  # sorted out by the caller
        volume = int(peak[row]) * span
        # |tax| <= Σ import * max rate; the counter <= before + Σ import.
        if volume * rate_peak < _LIMIT and threshold + before + volume < _LIMIT:
            rows.append(row)
            thresholds.append(threshold)
            befores.append(before)
    if not rows:
        return rows, np.zeros(0, np.int64)
    imp = _imports(cons, prod, rows)
    standard = _standard_wh(
        imp,
        _year_spans(tl.local_dates),
        np.asarray(thresholds, np.int64),
        np.asarray(befores, np.int64),
    )
    raw: Int64Array = standard @ normal + (imp - standard) @ reduced_vec
    return rows, _round_div(raw, 10 * denominator)


def _vat(subtotal: Int64Array, vat_rate: Decimal) -> Int64Array:
    rate = Fraction(vat_rate)
    peak = int(np.abs(subtotal).max(initial=0))
    if (peak + 1) * rate.numerator < _LIMIT and rate.denominator < _MAX_DENOMINATOR:
        return _round_div(subtotal * rate.numerator, rate.denominator)
    return np.asarray(
        [_ore(engine.round_money(Fraction(int(s), 100) * rate)) for s in subtotal],
        dtype=np.int64,
    )


def _fill_from_engine(
    row: int,
    tl: engine.Timeline,
    cons: Int64Array,
    prod: Int64Array | None,
    spot: Series | None,
    charges: Charges,
    vat_rate: Decimal,
    elvarme: Elvarme | None,
    codes: Sequence[str],
    quantity: Int64Array,
    amount: Int64Array,
    subtotal: Int64Array,
    vat: Int64Array,
    total: Int64Array,
) -> tuple[ChargeAmount, ...]:
    def series(wh: Int64Array) -> Series:
        return Series(tl.resolution, tl.start, tuple(_kwh(v) for v in wh))

    result = engine.settle(
        Scenario(
            period=tl.period,
            vat_rate=vat_rate,
            consumption=series(cons[row]),
            spot=spot,
            charges=charges,
            production=None if prod is None else series(prod[row]),
            elvarme=elvarme,
        )
    )
    for k, line in enumerate(result.lines):
        assert line.code == codes[k]
        quantity[row, k] = 0 if line.quantity_kwh is None else _wh(line.quantity_kwh)
        amount[row, k] = _ore(line.amount)
    subtotal[row] = _ore(result.subtotal)
    vat[row] = _ore(result.vat)
    total[row] = _ore(result.total)
    return result.charge_amounts
