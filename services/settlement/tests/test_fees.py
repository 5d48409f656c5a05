"""DataHub fees (D02): a fee linked to a metering point is due on its link's start date and is
billed once, in the settlement whose period holds that date, at its price on that date times
the link's factor (pieces), on its own line (``grid_fee`` for a grid company's fee,
``energinet_fee`` for Energinet's) with the fee charge named, so that wholesale
reconciliation can match it with DataHub's RSM-019 charge by charge.

The worked case: GM01 (January 2025, 779.19 DKK) and a grid company's 60.00 DKK fee linked
on 15 January with factor 1:

    GM01 lines                         623.35
    grid_fee  60.00 x 1                 60.00
    subtotal                           683.35
    VAT  683.35 x 0.25 = 170.8375   ->  170.84   (GM01: 155.84, +15.00)
    total                              854.19   (GM01: 779.19, +75.00)
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from wattline_settlement.domain.bulk import settle_many
from wattline_settlement.domain.charge_rules import (
    ENERGINET_GLN,
    ChargeInfo,
    ChargeKey,
    ChargeLinkSpan,
    ChargePrice,
    MissingCharges,
    combine_charges,
)
from wattline_settlement.domain.engine import BadScenario, settle
from wattline_settlement.domain.model import (
    ChargeAmount,
    Charges,
    Fee,
    Line,
    Period,
    PriceVersion,
    Scenario,
    charge_amounts_minus,
    lines_minus,
)
from wattline_settlement.domain.scenario import parse_scenario, result_to_json

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "settlement"
GRID = "5799994100344"
JANUARY = Period(date(2025, 1, 1), date(2025, 2, 1))
D = Decimal


def _gm01() -> tuple[Scenario, dict[str, Any]]:
    golden = json.loads((REFERENCE / "golden" / "GM01.json").read_text())
    return parse_scenario(golden["input"]), golden["expected"]


def _fee(day: date, price: str = "60.00", pieces: int = 1, charge_id: str = "GEBYR-1") -> Fee:
    return Fee("grid_fee", GRID, "D02", charge_id, day, D(price), pieces)


def _with_fees(scenario: Scenario, *fees: Fee) -> Scenario:
    return replace(scenario, charges=replace(scenario.charges, fees=fees))


def _lines(result: Any) -> dict[str, Decimal]:
    return {line.code: line.amount for line in result.lines}


def test_a_60_dkk_fee_on_15_january_next_to_gm01() -> None:
    gm01, expected = _gm01()
    result = settle(_with_fees(gm01, _fee(date(2025, 1, 15))))
    lines = _lines(result)
    # GM01's lines unchanged, the fee after the subscriptions.
    assert [line.code for line in result.lines] == [
        *(line["code"] for line in expected["lines"]),
        "grid_fee",
    ]
    for line in expected["lines"]:
        assert lines[line["code"]] == D(line["amount"])
    fee_line = result.lines[-1]
    assert fee_line == Line("grid_fee", None, None, D("60.00"))
    assert expected["subtotal"] == "623.35" and expected["vat"] == "155.84"
    assert result.subtotal == D("683.35")
    assert result.vat == D("170.84")  # 683.35 x 0.25 = 170.8375, half up
    assert result.total == D("854.19")  # 779.19 + 60.00 + 15.00 VAT
    # The fee charge named, for wholesale reconciliation.
    assert result.charge_amounts == (
        ChargeAmount("grid_fee", GRID, "D02", "GEBYR-1", None, None, D("60.000000")),
    )
    assert result_to_json(result)["lines"][-1] == {
        "code": "grid_fee",
        "quantity_kwh": None,
        "days": None,
        "amount": "60.00",
    }


def test_a_fee_outside_the_period_is_not_billed_and_gm01_is_unchanged() -> None:
    gm01, expected = _gm01()
    result = settle(_with_fees(gm01, _fee(date(2024, 12, 31)), _fee(date(2025, 2, 1))))
    assert result_to_json(result) == expected
    assert result.charge_amounts == ()


def test_pieces_fees_of_one_line_and_energinet_fee_round_once_per_line() -> None:
    gm01, _ = _gm01()
    fees = (
        _fee(date(2025, 1, 3), "12.345", 3),  # 37.035
        _fee(date(2025, 1, 20), "0.0025", 2, "GEBYR-2"),  # 0.005: 37.040 in all
        Fee("energinet_fee", ENERGINET_GLN, "D02", "EN-FEE", date(2025, 1, 31), D("0.005"), 1),
    )
    result = settle(_with_fees(gm01, *fees))
    lines = _lines(result)
    assert lines["grid_fee"] == D("37.04")  # one rounding: 37.035 + 0.005
    assert lines["energinet_fee"] == D("0.01")  # 0.005 half up
    assert [line.code for line in result.lines][-2:] == ["grid_fee", "energinet_fee"]
    assert result.subtotal == D("623.35") + D("37.04") + D("0.01")
    assert {(a.charge_id, a.amount) for a in result.charge_amounts} == {
        ("GEBYR-1", D("37.035000")),
        ("GEBYR-2", D("0.005000")),
        ("EN-FEE", D("0.005000")),
    }


def test_an_erroneous_switch_credits_the_fee_with_the_invoice_that_billed_it() -> None:
    gm01, _ = _gm01()
    scenario = replace(
        _with_fees(gm01, _fee(date(2025, 1, 15))),
        kind="erroneous_switch",
        invoice_periods=(
            Period(date(2025, 1, 1), date(2025, 1, 10)),
            Period(date(2025, 1, 10), date(2025, 2, 1)),
        ),
    )
    result = settle(scenario)
    assert result.documents is not None
    first, second = result.documents
    assert first.lines[-1] == Line("grid_fee", None, None, D("0.00"))
    assert second.lines[-1] == Line("grid_fee", None, None, D("-60.00"))
    assert _lines(result)["grid_fee"] == D("-60.00")


def test_a_correction_after_the_fee_link_was_removed_credits_it() -> None:
    gm01, _ = _gm01()
    before = settle(_with_fees(gm01, _fee(date(2025, 1, 15))))
    after = settle(gm01)  # DataHub removed the link: no fee in January any more
    delta = lines_minus(after.lines, before.lines)
    assert delta[-1] == Line("grid_fee", None, None, D("-60.00"))
    assert all(line.amount == 0 for line in delta[:-1])
    assert charge_amounts_minus(after.charge_amounts, before.charge_amounts) == (
        ChargeAmount("grid_fee", GRID, "D02", "GEBYR-1", None, None, D("-60.000000")),
    )
    assert after.total - before.total == D("-75.00")  # the fee and its VAT
    # And the other way: a fee linked back-dated into a settled month is billed by its
    # correction, a line the settlement did not have.
    added = lines_minus(before.lines, after.lines)
    assert [line.code for line in added][-1] == "grid_fee"
    assert added[-1] == Line("grid_fee", None, None, D("60.00"))


def test_a_correction_line_keeps_its_figures_decimals_and_none_only_when_both_lack_one() -> None:
    # kWh deltas keep 3 decimals even when both sides are zero (the run's correction once
    # wrote "0" there, the engine's correction "0.000"; one function now, the engine's shape).
    new = [Line("energy", D("0.000"), None, D("0.00")), Line("subscription", None, 30, D("75.00"))]
    old = [Line("energy", D("0.000"), None, D("0.00")), Line("spot", D("12.500"), None, D("9.99"))]
    delta = lines_minus(new, old)
    assert [(line.code, str(line.quantity_kwh), line.days, str(line.amount)) for line in delta] == [
        ("energy", "0.000", None, "0.00"),
        ("subscription", "None", 30, "75.00"),
        ("spot", "-12.500", None, "-9.99"),
    ]


def test_bad_fees_are_bad_scenarios() -> None:
    gm01, _ = _gm01()
    with pytest.raises(BadScenario, match="unknown line"):
        settle(_with_fees(gm01, replace(_fee(date(2025, 1, 2)), code="fee")))
    with pytest.raises(BadScenario, match="pieces"):
        settle(_with_fees(gm01, _fee(date(2025, 1, 2), pieces=-1)))


# --- from DataHub's links and prices ------------------------------------------------------

FEE = ChargeKey(GRID, "D02", "GEBYR-1")
TARIFF = ChargeKey(GRID, "D03", "NT-C")
SUB = ChargeKey(GRID, "D01", "NT-ABON")
TRANS = ChargeKey(ENERGINET_GLN, "D03", "40000")
SYS = ChargeKey(ENERGINET_GLN, "D03", "41000")
TAX = ChargeKey(ENERGINET_GLN, "D03", "EA-001")


def _combine(fee_links: list[ChargeLinkSpan], fee_prices: list[ChargePrice]) -> Charges:
    start = JANUARY.start
    links = [ChargeLinkSpan(k, start, None, 1) for k in (TARIFF, SUB, TRANS, SYS, TAX)]
    infos = {k: ChargeInfo(k, tax_indicator=k == TAX) for k in (FEE, TARIFF, SUB, TRANS, SYS, TAX)}
    prices = {
        FEE: fee_prices,
        TARIFF: [ChargePrice(start, flat=D("0.18"))],
        SUB: [ChargePrice(start, flat=D("49.00"))],
        TRANS: [ChargePrice(start, flat=D("0.049"))],
        SYS: [ChargePrice(start, flat=D("0.054"))],
        TAX: [ChargePrice(start, flat=D("0.008"))],
    }
    return combine_charges(
        JANUARY,
        [*links, *fee_links],
        infos,
        prices,
        (PriceVersion(start, D("0.04")),),
        (PriceVersion(start, D("39.00")),),
    )


def test_a_fee_link_in_the_period_is_a_fee_at_its_price_on_that_date_times_its_factor() -> None:
    charges = _combine(
        [
            ChargeLinkSpan(FEE, date(2025, 1, 15), None, 2),  # due 15 January, 2 pieces
            ChargeLinkSpan(FEE, date(2024, 12, 20), None, 1),  # December's: billed then
            ChargeLinkSpan(FEE, date(2025, 1, 25), date(2025, 1, 25), 1),  # removed
        ],
        # The price changes on the 16th: the fee of the 15th costs the old price.
        [
            ChargePrice(date(2024, 1, 1), flat=D("60.00")),
            ChargePrice(date(2025, 1, 16), flat=D("75.00")),
        ],
    )
    assert charges.fees == (
        Fee("grid_fee", GRID, "D02", "GEBYR-1", date(2025, 1, 15), D("60.00"), 2),
    )
    # The fee is no per-day charge: the other lines are what they are without it.
    assert [p.charge_type for p in charges.parts].count("D02") == 0


def test_a_fee_without_a_price_on_its_date_blocks_the_settlement() -> None:
    with pytest.raises(MissingCharges, match=r"grid_fee: no price for D02 GEBYR-1 .*2025-01-15"):
        _combine(
            [ChargeLinkSpan(FEE, date(2025, 1, 15), None, 1)],
            [ChargePrice(date(2025, 1, 16), flat=D("60.00"))],
        )


def test_an_energinet_fee_is_billed_on_its_own_line() -> None:
    en_fee = ChargeKey(ENERGINET_GLN, "D02", "EN-GEBYR")
    start = JANUARY.start
    charges = combine_charges(
        JANUARY,
        [ChargeLinkSpan(en_fee, date(2025, 1, 2), None, 1)]
        + [ChargeLinkSpan(k, start, None, 1) for k in (TARIFF, SUB, TRANS, SYS, TAX)],
        {k: ChargeInfo(k, tax_indicator=k == TAX) for k in (en_fee, TARIFF, SUB, TRANS, SYS, TAX)},
        {
            en_fee: [ChargePrice(start, flat=D("10.00"))],
            TARIFF: [ChargePrice(start, flat=D("0.18"))],
            SUB: [ChargePrice(start, flat=D("49.00"))],
            TRANS: [ChargePrice(start, flat=D("0.049"))],
            SYS: [ChargePrice(start, flat=D("0.054"))],
            TAX: [ChargePrice(start, flat=D("0.008"))],
        },
        (PriceVersion(start, D("0.04")),),
        (PriceVersion(start, D("39.00")),),
    )
    assert [f.code for f in charges.fees] == ["energinet_fee"]


def test_the_bulk_path_bills_the_fee_as_the_engine_does() -> None:
    charges = _combine(
        [ChargeLinkSpan(FEE, date(2025, 1, 15), None, 1)],
        [ChargePrice(date(2024, 1, 1), flat=D("60.00"))],
    )
    gm01, _ = _gm01()
    scenario = replace(gm01, charges=charges)
    wh = np.asarray(
        [[int(v.scaleb(3)) for v in gm01.consumption.values], [0] * len(gm01.consumption.values)],
        dtype=np.int64,
    )
    bulk = settle_many(
        wh,
        period=JANUARY,
        resolution="PT1H",
        spot=gm01.spot,
        charges=charges,
        vat_rate=D("0.25"),
    )
    assert bulk.decimal_rows == ()
    exact = settle(scenario)
    assert bulk.result(0) == exact
    assert _lines(exact)["grid_fee"] == D("60.00")
    fee = next(a for a in exact.charge_amounts if a.charge_type == "D02")
    assert fee == ChargeAmount("grid_fee", GRID, "D02", "GEBYR-1", None, None, D("60.000000"))
    # A metering point with no consumption still pays its fee.
    empty = bulk.result(1)
    assert _lines(empty)["grid_fee"] == D("60.00")
    assert empty == settle(
        replace(scenario, consumption=replace(gm01.consumption, values=(D(0),) * len(wh[1])))
    )
