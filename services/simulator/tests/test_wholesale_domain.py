"""The simulator's wholesale settlement figures, worked by hand (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

from wattline_simulator.domain.wholesale import SentDay, month_series, round6

D = Decimal


def _day(day: date, hours: int, wh: int, points: int, method: str | None = "D01") -> SentDay:
    return SentDay(day, "344", "E17", method, tuple([wh] * hours), points)


def test_a_month_with_the_spring_dst_day_and_a_day_without_energy() -> None:
    # 29 March (24 hours) and 30 March 2025 (23 hours: DST); 31 March sent nothing.
    series = month_series(
        "2025-03",
        [_day(date(2025, 3, 29), 24, 1500, 3), _day(date(2025, 3, 30), 23, 1000, 2)],
    )
    by_id = {s.charge.charge_id: s for s in series}
    assert list(by_id) == ["NT-C-TIME", "NT-ABON", "40000", "41000", "EA-001"]
    tariff = by_id["NT-C-TIME"]
    assert (tariff.start, tariff.end) == (
        datetime(2025, 3, 28, 23, tzinfo=UTC),
        datetime(2025, 3, 30, 22, tzinfo=UTC),
    )
    assert [p.position for p in tariff.points] == list(range(1, 48))
    # Winter (March) Tarifmodel 3.0: 6 low hours x 0.1302, 4 peak x 1.1718, 14 high x 0.3906
    # on 29 March, 1.5 kWh each; on 30 March (no 02:00) 5 low, 4 peak, 14 high, 1.0 kWh each.
    first = D("1.5") * (6 * D("0.1302") + 4 * D("1.1718") + 14 * D("0.3906"))
    second = D("1.0") * (5 * D("0.1302") + 4 * D("1.1718") + 14 * D("0.3906"))
    assert tariff.amount == first + second == D("27.21180")
    transmission = by_id["40000"]
    assert transmission.amount == (24 * D("1.5") + 23 * D("1.0")) * D("0.074") == D("4.366")
    # The subscription: 3 points then 2, each day 21.25 / 31 DKK.
    subscription = by_id["NT-ABON"]
    assert subscription.resolution == "P1D"
    assert [(p.position, p.quantity, p.price, p.amount) for p in subscription.points] == [
        (1, D(3), D("0.685484"), D("2.056452")),
        (2, D(2), D("0.685484"), D("1.370968")),
    ]


def test_series_per_settlement_method_and_only_the_month_asked_for() -> None:
    days = [
        _day(date(2025, 1, 31), 24, 100, 1, "D01"),
        _day(date(2025, 1, 31), 24, 200, 1, "E02"),
        _day(date(2025, 2, 1), 24, 999, 1, "D01"),  # February: not January's
    ]
    series = [s for s in month_series("2025-01", days) if s.charge.charge_id == "40000"]
    assert [(s.settlement_method, s.amount) for s in series] == [
        ("D01", D("0.1776")),  # 24 x 0.100 kWh x 0.074
        ("E02", D("0.3552")),
    ]


def test_round_half_up_to_six_decimals() -> None:
    assert round6(Fraction(2125, 3100)) == D("0.685484")  # 0.6854838...
    assert round6(Fraction(1, 2_000_000)) == D("0.000001")
    assert round6(Fraction(-1, 2_000_000)) == D("-0.000001")
    assert round6(D("0.16275")) == D("0.162750")
