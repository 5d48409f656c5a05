"""DataHub's wholesale settlement (RSM-019) of a month, as the simulator calculates it.

Per grid area, charge, metering point type and settlement method, from the energy the
simulator sent (corrections applied) and the prices it published (RSM-034) for the charges it
linked (RSM-031):

* a tariff (D03), hour by hour: quantity = the kWh of our points in that hour, price = the
  tariff's price of the hour, amount = quantity x price rounded half up to 6 decimals (as
  DataHub rounds an amount);
* a subscription (D01), day by day: quantity = how many of our points were supplied that day,
  price = the monthly price / the days of the month (6 decimals), amount = quantity x monthly
  price / days, rounded half up to 6 decimals once.

Why this equals what our settlement bills: our settlement gives each point, per charge,
Σ kWh x price (a subscription: Σ over its days of monthly price / days), rounded to 6 decimals
once. Summing that over the points equals DataHub's sum of positions but for the roundings to
6 decimals (at most 0.0000005 DKK per position or point, far inside the tolerance). Energinet's
tariffs have 3-decimal prices and kWh 3 decimals: their amounts are exact, no rounding at all.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from wattline_simulator.domain.charges import (
    GRID_SUBSCRIPTION_DKK_PER_MONTH,
    ChargeDef,
    hourly_prices,
    linked_charges,
)
from wattline_simulator.domain.market import local_day_bounds

SIX = Decimal("0.000001")


def round6(value: Fraction | Decimal) -> Decimal:
    """*value* rounded half up to 6 decimals (exact: a Fraction is never a float)."""
    if isinstance(value, Decimal):
        return value.quantize(SIX, rounding=ROUND_HALF_UP)
    numerator, denominator = value.numerator, value.denominator
    scaled, rest = divmod(abs(numerator) * 10**6, denominator)
    if 2 * rest >= denominator:
        scaled += 1
    return Decimal(-scaled if numerator < 0 else scaled).scaleb(-6)


def month_of(day: date) -> str:
    """The billing period (``YYYY-MM``) of a local day."""
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(period: str) -> tuple[date, date]:
    """The first local day of *period* and the first of the next month."""
    year, month = int(period[:4]), int(period[5:7])
    first = date(year, month, 1)
    return first, first + timedelta(days=calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class SentDay:
    """The energy sent for one local day, grid area, metering point type and method."""

    local_date: date
    grid_area: str
    metering_point_type: str
    settlement_method: str | None
    hourly_wh: tuple[int, ...]  # UTC hour order, 23/24/25 values
    metering_points: int


@dataclass(frozen=True)
class Position:
    position: int
    quantity: Decimal
    price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class ChargeSeries:
    """DataHub's settlement of one charge for one grid area, type and method over a month."""

    billing_period: str
    grid_area: str
    metering_point_type: str
    settlement_method: str | None
    charge: ChargeDef
    resolution: str  # PT1H (tariff) or P1D (subscription)
    start: datetime
    end: datetime
    points: tuple[Position, ...]

    @property
    def amount(self) -> Decimal:
        return sum((p.amount for p in self.points), Decimal(0))


def _tariff(charge: ChargeDef, days: Sequence[SentDay], start: datetime) -> list[Position]:
    out = []
    for sent in days:
        day_start, _ = local_day_bounds(sent.local_date)
        first = (day_start - start) // timedelta(hours=1)
        prices = hourly_prices(charge, sent.local_date)
        for hour, (wh, price) in enumerate(zip(sent.hourly_wh, prices, strict=True)):
            quantity = Decimal(wh).scaleb(-3)
            out.append(Position(first + hour + 1, quantity, price, round6(quantity * price)))
    return out


def _subscription(days: Sequence[SentDay], first_day: date) -> list[Position]:
    out = []
    for sent in days:
        in_month = calendar.monthrange(sent.local_date.year, sent.local_date.month)[1]
        daily = Fraction(GRID_SUBSCRIPTION_DKK_PER_MONTH) / in_month
        out.append(
            Position(
                (sent.local_date - first_day).days + 1,
                Decimal(sent.metering_points),
                round6(daily),
                round6(daily * sent.metering_points),
            )
        )
    return out


def month_series(period: str, days: Iterable[SentDay]) -> list[ChargeSeries]:
    """Every charge's series of *period* from the days sent in it (other days ignored), in
    (grid area, charge as linked, type, method) order. A series runs from its first sent day
    to its last; a day in between without energy of it is a position left out."""
    first_of_month, next_month = month_bounds(period)
    groups: dict[tuple[str, str, str | None], list[SentDay]] = {}
    for sent in sorted(days, key=lambda d: d.local_date):
        if first_of_month <= sent.local_date < next_month:
            key = (sent.grid_area, sent.metering_point_type, sent.settlement_method)
            groups.setdefault(key, []).append(sent)
    out: list[ChargeSeries] = []
    for grid_area in sorted({key[0] for key in groups}):
        for charge in linked_charges(grid_area):
            for key in sorted(k for k in groups if k[0] == grid_area):
                group = groups[key]
                start = local_day_bounds(group[0].local_date)[0]
                end = local_day_bounds(group[-1].local_date)[1]
                if charge.charge_type == "D01":
                    points = _subscription(group, group[0].local_date)
                    resolution = "P1D"
                else:
                    points = _tariff(charge, group, start)
                    resolution = "PT1H"
                out.append(
                    ChargeSeries(
                        period,
                        grid_area,
                        key[1],
                        key[2],
                        charge,
                        resolution,
                        start,
                        end,
                        tuple(points),
                    )
                )
    return out
