"""Per-charge amounts: what each linked DataHub charge of a settlement comes to, so that
reconciliation can compare it with DataHub's wholesale settlement (RSM-019) charge by charge.

Given two grid tariffs of one grid company linked at once (one only from the 11th), Energinet's
tariffs and tax and a grid subscription, the grid tariff line is their sum, and each part is the
charge's own Σ kWh x price; the Decimal engine and the NumPy bulk path agree to the last
decimal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from wattline_settlement.domain.bulk import settle_many
from wattline_settlement.domain.charge_rules import (
    ChargeInfo,
    ChargeKey,
    ChargeLinkSpan,
    ChargePrice,
    combine_charges,
)
from wattline_settlement.domain.engine import interval_count, local_midnight_utc, settle
from wattline_settlement.domain.model import (
    ChargeAmount,
    Charges,
    Period,
    PriceVersion,
    Scenario,
    Series,
    charge_amounts_minus,
)

GRID = "5799994100344"
ENERGINET = "5790000432752"
JANUARY = Period(date(2025, 1, 1), date(2025, 2, 1))
TIME = ChargeKey(GRID, "D03", "NT-C-TIME")
EXTRA = ChargeKey(GRID, "D03", "NT-EXTRA")
SUB = ChargeKey(GRID, "D01", "NT-ABON")
FEE = ChargeKey(GRID, "D02", "GEBYR")
TRANS = ChargeKey(ENERGINET, "D03", "40000")
SYS = ChargeKey(ENERGINET, "D03", "41000")
TAX = ChargeKey(ENERGINET, "D03", "EA-001")
D = Decimal


def _hourly(low: str, high: str) -> tuple[Decimal | None, ...]:
    return tuple(D(low) if h < 6 else D(high) for h in range(24))


def _charges() -> Charges:
    start = JANUARY.start
    links = [
        ChargeLinkSpan(TIME, start, None, 1),
        ChargeLinkSpan(EXTRA, date(2025, 1, 11), None, 2),
        ChargeLinkSpan(SUB, start, None, 1),
        ChargeLinkSpan(TRANS, start, None, 1),
        ChargeLinkSpan(SYS, start, None, 1),
        ChargeLinkSpan(TAX, start, None, 1),
        ChargeLinkSpan(FEE, date(2025, 1, 20), None, 2),  # a fee due on 20 January, 2 pieces
    ]
    keys = (TIME, EXTRA, SUB, TRANS, SYS, TAX, FEE)
    infos = {k: ChargeInfo(k, tax_indicator=k == TAX) for k in keys}
    prices = {
        TIME: [ChargePrice(start, hourly=_hourly("0.1302", "0.3906"))],
        EXTRA: [ChargePrice(start, flat=D("0.010000"))],
        SUB: [ChargePrice(start, flat=D("21.25"))],
        TRANS: [ChargePrice(start, flat=D("0.074"))],
        SYS: [ChargePrice(start, flat=D("0.051"))],
        TAX: [ChargePrice(start, flat=D("0.720"))],
        FEE: [ChargePrice(start, flat=D("45.50"))],
    }
    margin = (PriceVersion(start, D("0.05")),)
    subscription = (PriceVersion(start, D("39.00")),)
    return combine_charges(JANUARY, links, infos, prices, margin, subscription)


def _wh(rows: int) -> np.ndarray:
    n = interval_count(JANUARY, "PT1H")
    return (np.arange(rows * n, dtype=np.int64).reshape(rows, n) * 37) % 1900 + 100


def _series(values: np.ndarray) -> Series:
    return Series(
        "PT1H",
        local_midnight_utc(JANUARY.start),
        tuple(Decimal(int(v)).scaleb(-3) for v in values),
    )


def test_each_linked_charge_is_settled_on_its_own_and_the_parts_sum_to_the_line() -> None:
    charges = _charges()
    n = interval_count(JANUARY, "PT1H")
    wh = np.full((1, n), 1000, dtype=np.int64)  # 1 kWh every hour of January
    spot = Series("PT1H", local_midnight_utc(JANUARY.start), (D("0.5"),) * n)
    result = settle(Scenario(JANUARY, D("0.25"), _series(wh[0]), spot, charges))
    amounts = {(a.code, a.charge_id): a for a in result.charge_amounts}
    # 744 hours: 31 x 6 low hours at 0.1302, 31 x 18 at 0.3906.
    assert amounts["grid_tariff", "NT-C-TIME"].amount == D("242.172000")
    assert amounts["grid_tariff", "NT-C-TIME"].quantity_kwh == D("744.000")
    # NT-EXTRA from 11 January, factor 2: 21 days x 24 kWh x 0.02.
    assert amounts["grid_tariff", "NT-EXTRA"].amount == D("10.080000")
    assert amounts["grid_tariff", "NT-EXTRA"].quantity_kwh == D("504.000")
    assert amounts["transmission_tariff", "40000"].amount == D("55.056000")
    assert amounts["system_tariff", "41000"].amount == D("37.944000")
    assert amounts["electricity_tax", "EA-001"].amount == D("535.680000")
    assert amounts["grid_subscription", "NT-ABON"].amount == D("21.250000")
    assert amounts["grid_subscription", "NT-ABON"].days == 31
    lines = {line.code: line.amount for line in result.lines}
    assert lines["grid_tariff"] == D("252.25")  # 242.172 + 10.08, rounded once
    assert lines["grid_subscription"] == D("21.25")
    assert amounts["grid_fee", "GEBYR"].amount == D("91.000000")  # 2 x 45.50
    assert lines["grid_fee"] == D("91.00")


def test_the_bulk_path_gives_the_same_charge_amounts_as_the_engine() -> None:
    charges = _charges()
    n = interval_count(JANUARY, "PT1H")
    spot = Series(
        "PT1H",
        local_midnight_utc(JANUARY.start),
        tuple(D(300 + (i * 7) % 500).scaleb(-3) for i in range(n)),
    )
    wh = _wh(5)
    bulk = settle_many(
        wh,
        period=JANUARY,
        resolution="PT1H",
        spot=spot,
        charges=charges,
        vat_rate=D("0.25"),
    )
    for row in range(5):
        exact = settle(Scenario(JANUARY, D("0.25"), _series(wh[row]), spot, charges))
        assert bulk.result(row) == exact
        assert len(exact.charge_amounts) == 7  # six charges per kWh or day, and the fee
        assert next(x for x in exact.lines if x.code == "grid_fee").amount == D("91.00")
    first = {a.charge_id: a.amount for a in bulk.result(0).charge_amounts}
    grid_line = next(x for x in bulk.result(0).lines if x.code == "grid_tariff")
    assert abs(first["NT-C-TIME"] + first["NT-EXTRA"] - grid_line.amount) <= D("0.005")
    assert bulk.result(0).charge_amounts[0].days is None


def test_a_charge_linked_part_of_the_month_pays_its_days() -> None:
    charges = _charges()
    sub = next(p for p in charges.parts if p.code == "grid_subscription")
    assert sub.charge_id == "NT-ABON"
    extra = next(p for p in charges.parts if p.charge_id == "NT-EXTRA")
    assert extra.versions[0].flat is None and extra.versions[0].valid_from == JANUARY.start
    assert extra.versions[1].valid_from == JANUARY.start + timedelta(days=10)
    assert extra.versions[1].flat == D("0.020000")


def test_a_correction_per_charge_is_new_minus_old_a_charge_on_one_side_counting_as_zero() -> None:
    old = [
        ChargeAmount("grid_tariff", GRID, "D03", "NT-C-TIME", Decimal("100.000"), None,
                     Decimal("21.345678")),
        ChargeAmount("grid_subscription", GRID, "D01", "NT-ABO", None, 31, Decimal("30.000000")),
    ]  # fmt: skip
    new = [
        ChargeAmount("grid_tariff", GRID, "D03", "NT-C-TIME", Decimal("86.800"), None,
                     Decimal("18.527829")),
        ChargeAmount("grid_tariff", GRID, "D03", "NT-EXTRA", Decimal("86.800"), None,
                     Decimal("1.736000")),
    ]  # fmt: skip
    assert charge_amounts_minus(new, old) == (
        ChargeAmount("grid_tariff", GRID, "D03", "NT-C-TIME", Decimal("-13.200"), None,
                     Decimal("-2.817849")),
        ChargeAmount("grid_tariff", GRID, "D03", "NT-EXTRA", Decimal("86.800"), None,
                     Decimal("1.736000")),
        ChargeAmount("grid_subscription", GRID, "D01", "NT-ABO", None, -31,
                     Decimal("-30.000000")),
    )  # fmt: skip
