"""The vectorised bulk path gives every metering point exactly the result of the exact engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wattline_settlement.domain.bulk import BulkSettlement, settle_many
from wattline_settlement.domain.engine import (
    BadScenario,
    interval_count,
    local_midnight_utc,
    settle,
)
from wattline_settlement.domain.model import (
    Aconto,
    Charges,
    Elvarme,
    Fee,
    Period,
    PriceVersion,
    Resolution,
    Scenario,
    Series,
    TariffVersion,
)
from wattline_settlement.domain.scenario import result_to_json

# Days around which things happen: DST (2024-03-31, 2024-10-27, 2025-03-30, 2025-10-26),
# month and year ends, a leap day.
INTERESTING = [
    date(2025, 3, 29),
    date(2025, 10, 25),
    date(2024, 10, 26),
    date(2024, 3, 30),
    date(2025, 1, 30),
    date(2024, 2, 27),
    date(2024, 12, 30),
    date(2025, 9, 29),
]


@dataclass(frozen=True)
class Market:
    period: Period
    resolution: Resolution
    spot: Series
    charges: Charges
    vat_rate: Decimal
    reduced_tax: tuple[PriceVersion, ...]


def _micro(rng: np.random.Generator, low: int, high: int, size: int) -> list[Decimal]:
    return [Decimal(int(v)).scaleb(-6) for v in rng.integers(low, high, size)]


def _versions(
    rng: np.random.Generator, period: Period, days: int, low: int, high: int, places: int = 6
) -> tuple[PriceVersion, ...]:
    """One version from before the period, and sometimes a second one inside it."""
    first = PriceVersion(
        period.start - timedelta(days=int(rng.integers(0, 40))), _price(rng, low, high, places)
    )
    if days > 1 and rng.random() < 0.6:
        change = period.start + timedelta(days=int(rng.integers(1, days)))
        return (first, PriceVersion(change, _price(rng, low, high, places)))
    return (first,)


def _price(rng: np.random.Generator, low: int, high: int, places: int) -> Decimal:
    return Decimal(int(rng.integers(low, high))).scaleb(-places)


def _fees(rng: np.random.Generator, period: Period, days: int) -> tuple[Fee, ...]:
    """None to three fees (D02), a grid company's or Energinet's, some dated before or after
    the period (not billed), some in pieces, prices of up to 6 decimals."""
    fees = []
    for k in range(int(rng.integers(0, 4))):
        code = "grid_fee" if rng.random() < 0.7 else "energinet_fee"
        day = period.start + timedelta(days=int(rng.integers(-3, days + 3)))
        price = _price(rng, 0, 200_000_000, int(rng.choice([2, 6])))
        fees.append(
            Fee(code, "5790000432752", "D02", f"FEE-{k}", day, price, int(rng.integers(1, 4)))
        )
    return tuple(fees)


@st.composite
def markets(draw: st.DrawFn) -> Market:
    start = draw(
        st.one_of(
            st.sampled_from(INTERESTING),
            st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
        )
    )
    days = draw(st.integers(1, 35))
    resolution: Resolution = draw(st.sampled_from(["PT1H", "PT15M"]))
    spot_resolution: Resolution = draw(st.sampled_from(["PT1H", "PT15M"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    period = Period(start, start + timedelta(days=days))
    spot = Series(
        spot_resolution,
        local_midnight_utc(start),
        # Day-ahead prices, negative ones included, 6 decimals.
        tuple(_micro(rng, -800_000, 4_000_000, interval_count(period, spot_resolution))),
    )

    def grid() -> tuple[TariffVersion, ...]:
        versions = []
        for version in _versions(rng, period, days, 0, 1):
            if rng.random() < 0.7:
                hourly = tuple(_micro(rng, 0, 1_500_000, 24))
                versions.append(TariffVersion(version.valid_from, hourly=hourly))
            else:
                versions.append(TariffVersion(version.valid_from, flat=_price(rng, 0, 900_000, 6)))
        return tuple(versions)

    charges = Charges(
        supplier_margin=_versions(rng, period, days, -50_000, 200_000),
        grid_tariff=grid(),
        system_tariff=_versions(rng, period, days, 0, 100_000),
        transmission_tariff=_versions(rng, period, days, 0, 100_000),
        electricity_tax=_versions(rng, period, days, 0, 1_000_000),
        grid_subscription=_versions(rng, period, days, 0, 20_000, places=2),
        supplier_subscription=_versions(rng, period, days, 0, 10_000, places=2),
        fees=_fees(rng, period, days),
    )
    vat_rate = draw(st.sampled_from([Decimal("0.25"), Decimal("0"), Decimal("0.123457")]))
    return Market(
        period, resolution, spot, charges, vat_rate, _versions(rng, period, days, 0, 10_000)
    )


@st.composite
def metering_points(draw: st.DrawFn, n: int) -> tuple[np.ndarray[Any, Any], np.random.Generator]:
    rows = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    wh = rng.integers(0, 4_000, size=(rows, n), dtype=np.int64)  # any Wh: 3-decimal kWh
    wh[rng.random((rows, n)) < 0.3] = 0
    if draw(st.booleans()):
        wh[0] = 0  # a metering point with no consumption at all
    return wh, rng


def _series(market: Market, wh: np.ndarray[Any, Any]) -> Series:
    return Series(
        market.resolution,
        local_midnight_utc(market.period.start),
        tuple(Decimal(int(v)).scaleb(-3) for v in wh),
    )


def _assert_same(
    bulk: BulkSettlement,
    market: Market,
    wh: np.ndarray[Any, Any],
    production: np.ndarray[Any, Any] | None = None,
    elvarme: list[Elvarme | None] | None = None,
    aconto: list[Aconto | None] | None = None,
) -> None:
    assert len(bulk) == wh.shape[0]
    for row in range(wh.shape[0]):
        exact = settle(
            Scenario(
                period=market.period,
                vat_rate=market.vat_rate,
                consumption=_series(market, wh[row]),
                spot=market.spot,
                charges=market.charges,
                production=None if production is None else _series(market, production[row]),
                elvarme=None if elvarme is None else elvarme[row],
                aconto=None if aconto is None else aconto[row],
            )
        )
        assert bulk.result(row) == exact
        assert result_to_json(bulk.result(row)) == result_to_json(exact)


def _settle_many(market: Market, wh: np.ndarray[Any, Any], **kwargs: Any) -> BulkSettlement:
    return settle_many(
        wh,
        period=market.period,
        resolution=market.resolution,
        spot=market.spot,
        charges=market.charges,
        vat_rate=market.vat_rate,
        **kwargs,
    )


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_bulk_equals_the_exact_engine(data: st.DataObject) -> None:
    market = data.draw(markets())
    n = interval_count(market.period, market.resolution)
    wh, rng = data.draw(metering_points(n))
    acontos: list[Aconto | None] = [
        Aconto(Decimal(int(rng.integers(-10_000, 500_000))).scaleb(-2))
        if rng.random() < 0.5
        else None
        for _ in range(wh.shape[0])
    ]
    bulk = _settle_many(market, wh, aconto=acontos)
    assert bulk.decimal_rows == ()  # all vectorised
    _assert_same(bulk, market, wh, aconto=acontos)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_bulk_with_production_and_elvarme_equals_the_exact_engine(data: st.DataObject) -> None:
    market = data.draw(markets())
    n = interval_count(market.period, market.resolution)
    wh, rng = data.draw(metering_points(n))
    production = None
    if data.draw(st.booleans()):
        production = rng.integers(0, 3_000, size=wh.shape, dtype=np.int64)
        production[rng.random(wh.shape) < 0.5] = 0
    # Counters near the threshold, so that the period crosses it (and maybe a new year).
    elvarme: list[Elvarme | None] = []
    for _ in range(wh.shape[0]):
        if rng.random() < 0.25:
            elvarme.append(None)
            continue
        threshold = int(rng.integers(0, 5_000_000))
        before = max(0, threshold - int(rng.integers(0, n * 2_000 + 1)))
        elvarme.append(
            Elvarme(
                Decimal(threshold).scaleb(-3),
                Decimal(before).scaleb(-3),
                market.reduced_tax,
            )
        )
    bulk = _settle_many(market, wh, production_wh=production, elvarme=elvarme)
    assert bulk.decimal_rows == ()
    _assert_same(bulk, market, wh, production=production, elvarme=elvarme)


def _january(resolution: Resolution) -> Market:
    """Two January days, flat prices: spot 0.85, margin/system/transmission/tax 0.10, grid 0.18."""
    period = Period(date(2025, 1, 15), date(2025, 1, 17))
    price = (PriceVersion(date(2025, 1, 1), Decimal("0.1")),)
    return Market(
        period,
        resolution,
        Series("PT1H", local_midnight_utc(period.start), (Decimal("0.85"),) * 48),
        Charges(
            supplier_margin=price,
            grid_tariff=(TariffVersion(date(2025, 1, 1), flat=Decimal("0.18")),),
            system_tariff=price,
            transmission_tariff=price,
            electricity_tax=price,
            grid_subscription=(PriceVersion(date(2025, 1, 1), Decimal("49.00")),),
            supplier_subscription=(PriceVersion(date(2025, 1, 1), Decimal("39.00")),),
        ),
        Decimal("0.25"),
        price,
    )


def test_a_row_too_large_for_int64_goes_the_exact_way() -> None:
    market = _january("PT15M")
    n = interval_count(market.period, "PT15M")
    wh = np.full((3, n), 250, dtype=np.int64)
    wh[1, 7] = 2**52  # 4.5 TWh in a quarter: Σ Wh x price could overflow int64
    bulk = _settle_many(market, wh)
    assert bulk.decimal_rows == (1,)
    _assert_same(bulk, market, wh)
    # 48 kWh: spot 40.80, grid 8.64, 4 x 4.80, subscriptions 49 x 2/31 = 3.16 and
    # 39 x 2/31 = 2.52; subtotal 74.32, VAT 18.58.
    assert bulk.result(0).total == Decimal("92.90")


@pytest.mark.parametrize(
    ("wh", "message"),
    [
        (np.zeros((2, 47), np.int64), "consumption_wh: shape (2, 47), need (metering points, 48"),
        (np.zeros((2, 48), np.float64), "consumption_wh: integer Wh needed"),
        (np.full((2, 48), -1, np.int64), "consumption_wh: negative Wh"),
    ],
)
def test_bad_matrices(wh: np.ndarray[Any, Any], message: str) -> None:
    with pytest.raises(BadScenario, match=message.replace("(", r"\(").replace(")", r"\)")):
        _settle_many(_january("PT1H"), wh)
