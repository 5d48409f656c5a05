"""The settlement rules one at a time, with numbers worked out by hand (spec §2-§5)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wattline_settlement.domain.engine import (
    interval_count,
    round_money,
    settle,
    timeline,
)
from wattline_settlement.domain.model import Period
from wattline_settlement.domain.scenario import parse_scenario, result_to_json

ZERO_CHARGES: dict[str, Any] = {
    "supplier_margin": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0"}],
    "grid_tariff": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0"}],
    "system_tariff": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0"}],
    "transmission_tariff": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0"}],
    "electricity_tax": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0"}],
    "grid_subscription": [{"valid_from": "2024-01-01", "dkk_per_month": "0"}],
    "supplier_subscription": [{"valid_from": "2024-01-01", "dkk_per_month": "0"}],
}
POSITIONS = [f"0.{p:02d}" for p in range(1, 25)]  # position p costs p øre/kWh


def hourly(value: str) -> dict[str, Any]:
    """A PT1H kWh series: *value* every hour."""
    return {"resolution": "PT1H", "profile_utc_hourly": [value] * 24}


def given_scenario(
    start: str,
    end: str,
    *,
    consumption: dict[str, Any] | None = None,
    spot: dict[str, Any] | None = None,
    charges: dict[str, Any] | None = None,
    vat_rate: str = "0.25",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "period": {"start": start, "end": end},
        "vat_rate": vat_rate,
        "consumption": consumption or hourly("1.000"),
        "spot": spot or {"resolution": "PT1H", "profile_utc_hourly": ["0"] * 24},
        "charges": {**copy.deepcopy(ZERO_CHARGES), **(charges or {})},
        **extra,
    }


def settled(scenario: dict[str, Any]) -> dict[str, Any]:
    return result_to_json(settle(parse_scenario(scenario)))


def line(result: dict[str, Any], code: str) -> dict[str, Any]:
    [found] = [entry for entry in result["lines"] if entry["code"] == code]
    return found


def points(kwh: dict[str, str], default: str = "0.000") -> dict[str, Any]:
    return {
        "resolution": "PT1H",
        "profile_utc_hourly": [default] * 24,
        "points": [{"start": start, "kwh": value} for start, value in kwh.items()],
    }


GRID_BY_POSITION = {"grid_tariff": [{"valid_from": "2024-01-01", "hourly_dkk_per_kwh": POSITIONS}]}


# --- time: DST days and grid positions by local hour -------------------------------------------


def test_the_spring_day_has_23_hours_and_no_local_hour_2() -> None:
    tl = timeline(Period(date(2025, 3, 30), date(2025, 3, 31)), "PT1H")
    assert tl.local_hours == (0, 1, *range(3, 24))
    # 1 kWh every hour: positions 1..24 except 3 = (300 - 3) øre.
    result = settled(given_scenario("2025-03-30", "2025-03-31", charges=GRID_BY_POSITION))
    assert line(result, "grid_tariff") == {
        "code": "grid_tariff",
        "quantity_kwh": "23.000",
        "days": None,
        "amount": "2.97",
    }


def test_the_autumn_day_has_25_hours_and_position_3_twice() -> None:
    tl = timeline(Period(date(2025, 10, 26), date(2025, 10, 27)), "PT1H")
    assert tl.local_hours == (0, 1, 2, 2, *range(3, 24))
    result = settled(given_scenario("2025-10-26", "2025-10-27", charges=GRID_BY_POSITION))
    assert line(result, "grid_tariff")["quantity_kwh"] == "25.000"
    assert line(result, "grid_tariff")["amount"] == "3.03"  # (300 + 3) øre


def test_a_dst_hour_uses_the_position_of_its_local_clock_hour() -> None:
    # 2025-03-30T01:00Z is 03:00 CEST: position 4. 2025-10-26T00:00Z and 01:00Z are both
    # 02:00 local (CEST, then CET): position 3 twice.
    spring = given_scenario(
        "2025-03-30",
        "2025-03-31",
        consumption=points({"2025-03-30T01:00Z": "1.000"}),
        charges=GRID_BY_POSITION,
    )
    assert line(settled(spring), "grid_tariff")["amount"] == "0.04"
    autumn = given_scenario(
        "2025-10-26",
        "2025-10-27",
        consumption=points({"2025-10-26T00:00Z": "1.000", "2025-10-26T01:00Z": "2.000"}),
        charges=GRID_BY_POSITION,
    )
    assert line(settled(autumn), "grid_tariff")["amount"] == "0.09"
    # In January (UTC+1) UTC 15:00 is local 16:00: position 17.
    winter = given_scenario(
        "2025-01-15",
        "2025-01-16",
        consumption=points({"2025-01-15T15:00Z": "1.000"}),
        charges=GRID_BY_POSITION,
    )
    assert line(settled(winter), "grid_tariff")["amount"] == "0.17"


def test_pt15m_dst_days_have_92_and_100_quarters() -> None:
    assert interval_count(Period(date(2025, 3, 30), date(2025, 3, 31)), "PT15M") == 92
    assert interval_count(Period(date(2025, 10, 26), date(2025, 10, 27)), "PT15M") == 100
    assert interval_count(Period(date(2025, 3, 1), date(2025, 4, 1)), "PT15M") == 31 * 96 - 4
    quarter = {"resolution": "PT15M", "profile_utc_hourly": ["0.250"] * 24}
    result = settled(
        given_scenario("2025-03-30", "2025-03-31", consumption=quarter, charges=GRID_BY_POSITION)
    )
    # Each local hour: 4 x 0.250 kWh at its position, so again (300 - 3) øre.
    assert line(result, "grid_tariff") == {
        "code": "grid_tariff",
        "quantity_kwh": "23.000",
        "days": None,
        "amount": "2.97",
    }


# --- spot price of an interval ------------------------------------------------------------------


def test_pt15m_consumption_takes_the_price_of_its_utc_hour() -> None:
    quarter_profile = ["0.000"] * 96
    quarter_profile[4 * 10 + 1] = "2.000"  # 10:15Z
    spot = ["9.99"] * 24
    spot[10] = "0.500"
    result = settled(
        given_scenario(
            "2025-10-02",
            "2025-10-03",
            consumption={"resolution": "PT15M", "profile_utc_quarter_hourly": quarter_profile},
            spot={"resolution": "PT1H", "profile_utc_hourly": spot},
        )
    )
    assert line(result, "spot_energy")["amount"] == "1.00"  # 2.000 x 0.500


def test_pt1h_consumption_takes_the_exact_mean_of_four_quarters() -> None:
    # Quarter prices 0.000001, 0, 0, 0: the hour's mean is 0.00000025 (not a 6-decimal
    # price). 20000 kWh x 0.00000025 = 0.005 -> 0.01; a mean rounded to 6 decimals gives 0.00.
    quarters = ["0.000000"] * 96
    for hour in range(24):
        quarters[4 * hour] = "0.000001"
    consumption = ["0.000"] * 24
    consumption[0] = "20000.000"
    result = settled(
        given_scenario(
            "2025-10-02",
            "2025-10-03",
            consumption={"resolution": "PT1H", "profile_utc_hourly": consumption},
            spot={"resolution": "PT15M", "profile_utc_quarter_hourly": quarters},
        )
    )
    assert line(result, "spot_energy")["amount"] == "0.01"


def test_an_hourly_mean_of_quarter_prices() -> None:
    # mean(0.40, 0.50, 0.60, 0.71) = 0.5525; 2.000 kWh -> 1.105 -> 1.11 (half up).
    spot = {
        "resolution": "PT15M",
        "profile_utc_hourly": ["0"] * 24,
        "points": [
            {"start": "2025-10-02T10:00Z", "dkk_per_kwh": "0.40"},
            {"start": "2025-10-02T10:15Z", "dkk_per_kwh": "0.50"},
            {"start": "2025-10-02T10:30Z", "dkk_per_kwh": "0.60"},
            {"start": "2025-10-02T10:45Z", "dkk_per_kwh": "0.71"},
        ],
    }
    result = settled(
        given_scenario(
            "2025-10-02",
            "2025-10-03",
            consumption=points({"2025-10-02T10:00Z": "2.000"}),
            spot=spot,
        )
    )
    assert line(result, "spot_energy")["amount"] == "1.11"


# --- rounding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [
        (Decimal("1.025"), "1.03"),
        (Decimal("-0.425"), "-0.43"),
        (Decimal("2.675"), "2.68"),  # a binary float would say 2.67
        (Decimal("0.005"), "0.01"),
        (Decimal("-0.005"), "-0.01"),
        (Decimal("-0.004999"), "0.00"),
        (Decimal("-0.0049999999999999999999999999999"), "0.00"),
        (Decimal("142.885"), "142.89"),  # GM06's February VAT: not banker's 142.88
        (Fraction(1, 3), "0.33"),
        (Fraction(-2, 3), "-0.67"),
        (Fraction(1, 200), "0.01"),
        (Fraction(49 * 16, 31), "25.29"),
    ],
)
def test_round_half_up_ties_away_from_zero(exact: Decimal | Fraction, rounded: str) -> None:
    assert str(round_money(exact)) == rounded


def test_a_negative_tie_rounds_away_from_zero_and_zero_is_never_negative() -> None:
    # 0.500 kWh at -0.85: -0.425 -> -0.43; VAT of -0.43 is -0.1075 -> -0.11.
    spot = ["0"] * 24
    spot[10] = "-0.85"
    spot[11] = "-0.004"
    result = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-16",
            consumption=points({"2025-01-15T10:00Z": "0.500"}),
            spot={"resolution": "PT1H", "profile_utc_hourly": spot},
        )
    )
    assert line(result, "spot_energy")["amount"] == "-0.43"
    assert (result["subtotal"], result["vat"], result["total"]) == ("-0.43", "-0.11", "-0.54")
    tiny = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-16",
            consumption=points({"2025-01-15T11:00Z": "0.001"}),
            spot={"resolution": "PT1H", "profile_utc_hourly": spot},
        )
    )
    # -0.000004 DKK: "0.00", not "-0.00", everywhere.
    assert line(tiny, "spot_energy")["amount"] == "0.00"
    assert (tiny["subtotal"], tiny["vat"], tiny["total"]) == ("0.00", "0.00", "0.00")


def test_a_price_change_inside_the_period_does_not_split_the_line() -> None:
    # 24 kWh a day; margin 0.000105 on day 1, 0.000104 on day 2: 0.00252 + 0.002496
    # = 0.005016 -> 0.01 (rounding per version would give 0.00 + 0.00).
    margin = [
        {"valid_from": "2025-01-16", "dkk_per_kwh": "0.000104"},  # versions in any order
        {"valid_from": "2025-01-01", "dkk_per_kwh": "0.000105"},
    ]
    result = settled(
        given_scenario("2025-01-15", "2025-01-17", charges={"supplier_margin": margin})
    )
    assert line(result, "supplier_margin") == {
        "code": "supplier_margin",
        "quantity_kwh": "48.000",
        "days": None,
        "amount": "0.01",
    }


# --- subscriptions ------------------------------------------------------------------------------


def subscriptions(*versions: tuple[str, str]) -> dict[str, Any]:
    return {
        "grid_subscription": [{"valid_from": v, "dkk_per_month": m} for v, m in versions],
        "supplier_subscription": [{"valid_from": "2024-01-01", "dkk_per_month": "0"}],
    }


@pytest.mark.parametrize(
    ("start", "end", "versions", "days", "amount"),
    [
        # 16 days of January: 49 x 16/31 = 25.290.. (a rounded day price 1.58 x 16 = 25.28)
        ("2025-01-16", "2025-02-01", [("2025-01-01", "49.00")], 16, "25.29"),
        # 15 Oct - 15 Nov: 49 x 17/31 + 49 x 14/30 = 26.8709.. + 22.8666.. = 49.7376..
        ("2025-10-15", "2025-11-15", [("2025-01-01", "49.00")], 31, "49.74"),
        # February of a leap year: 14 of 29 days: 49 x 14/29 = 23.655..
        ("2024-02-01", "2024-02-15", [("2024-01-01", "49.00")], 14, "23.66"),
        ("2024-02-01", "2024-03-01", [("2024-01-01", "49.00")], 29, "49.00"),
        # A new price from 16 January: 49 x 15/31 + 60 x 16/31 = 1695/31 = 54.677..
        (
            "2025-01-01",
            "2025-02-01",
            [("2025-01-01", "49.00"), ("2025-01-16", "60.00")],
            31,
            "54.68",
        ),
        # The 23-hour day is one day: 29 and 30 March are 2 of 31 days.
        ("2025-03-29", "2025-03-31", [("2025-01-01", "31.00")], 2, "2.00"),
        # Three months' fractions summed before the one rounding: 10 x (1/31 + 28/28 + 1/31)
        ("2025-01-31", "2025-03-02", [("2025-01-01", "10.00")], 30, "10.65"),
    ],
)
def test_subscriptions_are_day_fractions_of_each_month(
    start: str, end: str, versions: list[tuple[str, str]], days: int, amount: str
) -> None:
    result = settled(given_scenario(start, end, charges=subscriptions(*versions)))
    assert line(result, "grid_subscription") == {
        "code": "grid_subscription",
        "quantity_kwh": None,
        "days": days,
        "amount": amount,
    }


# --- elvarme ------------------------------------------------------------------------------------

TAX_1_DKK = {"electricity_tax": [{"valid_from": "2024-01-01", "dkk_per_kwh": "1.000"}]}


def elvarme(threshold: str, before: str) -> dict[str, Any]:
    return {
        "threshold_kwh": threshold,
        "consumed_kwh_before_period": before,
        "reduced_electricity_tax": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0.100"}],
    }


def test_elvarme_splits_the_crossing_interval_and_restarts_on_1_january() -> None:
    # 1 kWh an hour over 31 Dec 2024 and 1 Jan 2025, threshold 10 kWh, 9.5 counted in 2024:
    # 31 Dec: 0.5 normal + 0.5 reduced in the first hour, then 23 reduced;
    # 1 Jan (counter 0 at local midnight): 10 normal, 14 reduced.
    # 10.5 x 1.000 + 37.5 x 0.100 = 14.25
    result = settled(
        given_scenario(
            "2024-12-31",
            "2025-01-02",
            charges=TAX_1_DKK,
            elvarme=elvarme("10", "9.500"),
        )
    )
    assert line(result, "electricity_tax") == {
        "code": "electricity_tax",
        "quantity_kwh": "48.000",
        "days": None,
        "amount": "14.25",
    }


def test_elvarme_below_and_above_the_threshold() -> None:
    below = settled(
        given_scenario("2025-01-15", "2025-01-16", charges=TAX_1_DKK, elvarme=elvarme("4000", "0"))
    )
    assert line(below, "electricity_tax")["amount"] == "24.00"
    above = settled(
        given_scenario(
            "2025-01-15", "2025-01-16", charges=TAX_1_DKK, elvarme=elvarme("4000", "4100")
        )
    )
    assert line(above, "electricity_tax")["amount"] == "2.40"
    default_threshold = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-16",
            charges=TAX_1_DKK,
            elvarme={k: v for k, v in elvarme("x", "3990.000").items() if k != "threshold_kwh"},
        )
    )
    # threshold 4000 by default: 10 normal + 14 reduced = 10 + 1.4
    assert line(default_threshold, "electricity_tax")["amount"] == "11.40"


def test_elvarme_counter_runs_on_across_the_credited_invoices() -> None:
    # Threshold 30: the first day's 24 kWh are normal; of the second day's 24, 6 are normal
    # and 18 reduced: 6 + 1.8 = 7.80. (A counter restarting per invoice would say 24.00.)
    result = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-17",
            charges=TAX_1_DKK,
            elvarme=elvarme("30", "0"),
            kind="erroneous_switch",
            invoice_periods=[
                {"start": "2025-01-15", "end": "2025-01-16"},
                {"start": "2025-01-16", "end": "2025-01-17"},
            ],
        )
    )
    first, second = result["documents"]
    assert line(first, "electricity_tax")["amount"] == "-24.00"
    assert line(second, "electricity_tax")["amount"] == "-7.80"
    assert line(result, "electricity_tax") == {
        "code": "electricity_tax",
        "quantity_kwh": "-48.000",
        "days": None,
        "amount": "-31.80",
    }


# --- solar --------------------------------------------------------------------------------------


def test_solar_export_earns_the_spot_price_only_and_can_cost_money() -> None:
    # 10:00Z: consumption 0.2, production 1.2: export 1.0 at 0.85 -> -0.85 (credit).
    # 11:00Z: export 0.5 at -0.40 -> +0.20 (exporting at a negative price costs money).
    # 12:00Z: consumption = production: neither charge nor credit.
    # Every other hour: 1 kWh import.
    spot = ["0.10"] * 24
    spot[10], spot[11] = "0.85", "-0.40"
    production = points(
        {"2025-01-15T10:00Z": "1.200", "2025-01-15T11:00Z": "0.500", "2025-01-15T12:00Z": "1.000"}
    )
    consumption = points(
        {"2025-01-15T10:00Z": "0.200", "2025-01-15T11:00Z": "0.000"}, default="1.000"
    )
    result = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-16",
            consumption=consumption,
            production=production,
            spot={"resolution": "PT1H", "profile_utc_hourly": spot},
            charges={"supplier_margin": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0.04"}]},
        )
    )
    assert result["consumption_kwh"] == "22.200"  # gross
    assert line(result, "spot_energy") == {
        "code": "spot_energy",
        "quantity_kwh": "21.000",  # 21 hours of 1 kWh net import
        "days": None,
        "amount": "2.10",
    }
    assert line(result, "supplier_margin")["amount"] == "0.84"
    assert result["lines"][-1] == {
        "code": "solar_export_credit",
        "quantity_kwh": "1.500",
        "days": None,
        "amount": "-0.65",  # -(0.85 - 0.20)
    }


def test_the_solar_line_is_there_even_without_export() -> None:
    result = settled(given_scenario("2025-01-15", "2025-01-16", production=hourly("0.000")))
    assert result["lines"][-1] == {
        "code": "solar_export_credit",
        "quantity_kwh": "0.000",
        "days": None,
        "amount": "0.00",
    }


# --- corrections --------------------------------------------------------------------------------

MARKET: dict[str, Any] = {
    "spot": {
        "resolution": "PT1H",
        "profile_utc_hourly": [f"0.{(7 * h) % 97 + 3:02d}1234" for h in range(24)],
    },
    "charges": {
        "supplier_margin": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0.041"}],
        "grid_tariff": [{"valid_from": "2024-01-01", "hourly_dkk_per_kwh": POSITIONS}],
        "system_tariff": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0.054"}],
        "transmission_tariff": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0.049"}],
        "electricity_tax": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0.761"}],
        "grid_subscription": [{"valid_from": "2024-01-01", "dkk_per_month": "49.00"}],
        "supplier_subscription": [{"valid_from": "2024-01-01", "dkk_per_month": "39.00"}],
    },
}


def _invoice(consumption: dict[str, Any]) -> dict[str, Any]:
    return settled(given_scenario("2025-01-15", "2025-01-18", consumption=consumption, **MARKET))


def _correction(original: dict[str, Any], corrected: dict[str, Any]) -> dict[str, Any]:
    return settled(
        given_scenario(
            "2025-01-15",
            "2025-01-18",
            consumption=original,
            kind="correction",
            corrected_consumption=corrected,
            **MARKET,
        )
    )


def _figures(result: dict[str, Any]) -> list[Decimal]:
    values = [Decimal(result[key]) for key in ("consumption_kwh", "subtotal", "vat", "total")]
    for entry in result["lines"]:
        values.append(Decimal(entry["amount"]))
        values.append(Decimal(entry["quantity_kwh"] or entry["days"]))
    return values


def _add(a: list[Decimal], b: list[Decimal]) -> list[Decimal]:
    return [x + y for x, y in zip(a, b, strict=True)]


kwh_values = st.integers(0, 5000).map(lambda wh: f"{Decimal(wh) / 1000:.3f}")
changes = st.dictionaries(
    st.sampled_from([f"2025-01-{d}T{h:02d}:00Z" for d in (15, 16, 17) for h in range(23)]),
    kwh_values,
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(changes, changes)
def test_corrections_telescope(first: dict[str, str], second: dict[str, str]) -> None:
    original = points({}, default="0.437")
    c1 = points(first, default="0.437")
    c2 = points({**first, **second}, default="0.437")
    # (C1 - O) + (C2 - C1) = C2 - O, figure by figure, with no rounding drift ...
    assert _add(_figures(_correction(original, c1)), _figures(_correction(c1, c2))) == _figures(
        _correction(original, c2)
    )
    # ... and invoice + correction = the invoice the corrected data gives.
    assert _add(_figures(_invoice(original)), _figures(_correction(original, c2))) == _figures(
        _invoice(c2)
    )


def test_a_correction_is_rounded_corrected_minus_rounded_original() -> None:
    # GM05's grid tariff: 103.42 -> 103.61 is +0.19, though the exact delta 0.195 rounds to 0.20.
    result = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-16",
            consumption=points({"2025-01-15T10:00Z": "0.500"}),
            kind="correction",
            corrected_consumption=points({"2025-01-15T10:00Z": "0.600"}),
            charges={"grid_tariff": [{"valid_from": "2024-01-01", "dkk_per_kwh": "0.025"}]},
        )
    )
    # original 0.500 x 0.025 = 0.0125 -> 0.01; corrected 0.015 -> 0.02: +0.01 (exact delta
    # 0.0025 would round to 0.00). Subscriptions: 0 days, 0.00. VAT: corrected 0.02 x 0.25
    # = 0.005 -> 0.01, original 0.0025 -> 0.00: +0.01, though round(0.01 x 0.25) = 0.00.
    assert line(result, "grid_tariff") == {
        "code": "grid_tariff",
        "quantity_kwh": "0.100",
        "days": None,
        "amount": "0.01",
    }
    assert line(result, "grid_subscription") == {
        "code": "grid_subscription",
        "quantity_kwh": None,
        "days": 0,
        "amount": "0.00",
    }
    assert (result["subtotal"], result["vat"], result["total"]) == ("0.01", "0.01", "0.02")


def test_corrected_points_outside_the_period_are_checked_but_ignored() -> None:
    result = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-16",
            kind="correction",
            consumption=hourly("1.000"),
            corrected_consumption={
                **hourly("1.000"),
                "points": [{"start": "2025-01-10T10:00Z", "kwh": "9.000"}],
            },
        )
    )
    assert result["consumption_kwh"] == "0.000"
    assert all(entry["amount"] == "0.00" for entry in result["lines"])


# --- erroneous switch and aconto ----------------------------------------------------------------


def test_an_erroneous_switch_without_invoice_periods_credits_one_invoice() -> None:
    scenario = given_scenario("2025-01-15", "2025-01-18", **MARKET)
    invoice = settled(scenario)
    credit = settled({**scenario, "kind": "erroneous_switch"})
    [note] = credit["documents"]
    assert note["period"] == invoice["period"]
    for key in ("subtotal", "vat", "total", "consumption_kwh"):
        assert Decimal(credit[key]) == -Decimal(invoice[key]) == Decimal(note[key])
    assert [Decimal(e["amount"]) for e in note["lines"]] == [
        -Decimal(e["amount"]) for e in invoice["lines"]
    ]
    assert line(note, "grid_subscription")["days"] == -3


def test_aconto_money_back() -> None:
    # 24 kWh at 0.50 = 12.00; VAT 3.00; total 15.00. Paid 20: -5.00; final settlement: due -5.00.
    result = settled(
        given_scenario(
            "2025-01-15",
            "2025-01-16",
            spot={"resolution": "PT1H", "profile_utc_hourly": ["0.50"] * 24},
            aconto={"paid": "20"},
        )
    )
    assert result["total"] == "15.00"
    assert result["aconto"] == {
        "paid": "20.00",
        "difference": "-5.00",
        "next_prepayment": "0.00",
        "amount_due": "-5.00",
    }
    assert list(result) == [
        "kind",
        "period",
        "consumption_kwh",
        "lines",
        "subtotal",
        "vat",
        "total",
        "aconto",
    ]


def _elvarme_from_the_16th() -> dict[str, Any]:
    """15-16 January, tax 1.00 DKK/kWh, elvarme (0.10) registered from the 16th with 3,990 kWh
    counted by then."""
    return given_scenario(
        "2025-01-15",
        "2025-01-17",
        charges={"electricity_tax": [{"valid_from": "2024-01-01", "dkk_per_kwh": "1.00"}]},
        elvarme={
            "from_date": "2025-01-16",
            "consumed_kwh_before_period": "3990",
            "reduced_electricity_tax": [{"valid_from": "2025-01-16", "dkk_per_kwh": "0.10"}],
        },
    )


def test_elvarme_from_a_date_inside_the_period() -> None:
    # 15-16 January, 24 kWh a day, tax 1.00 and reduced 0.10 DKK/kWh, registered from the
    # 16th with 3,990 kWh counted by then: the 15th pays 24 x 1.00 = 24.00 and does not
    # count; the 16th 10 x 1.00 + 14 x 0.10 = 11.40; the line 35.40. (Counting the 15th
    # would put all of the 16th at 0.10: 26.40.)
    scenario = _elvarme_from_the_16th()
    assert line(settled(scenario), "electricity_tax") == {
        "code": "electricity_tax",
        "quantity_kwh": "48.000",
        "days": None,
        "amount": "35.40",
    }
    # Registered from the first day it is the plain rule of §5.7: 10 x 1.00 + 38 x 0.10
    scenario["elvarme"]["from_date"] = "2025-01-15"
    scenario["elvarme"]["reduced_electricity_tax"][0]["valid_from"] = "2025-01-15"
    assert line(settled(scenario), "electricity_tax")["amount"] == "13.80"


def test_bulk_settles_an_elvarme_registration_from_inside_the_period_as_the_engine() -> None:
    import numpy as np
    from wattline_settlement.domain.bulk import settle_many
    from wattline_settlement.domain.scenario import parse_scenario as parse

    scenario = _elvarme_from_the_16th()
    parsed = parse(scenario)
    bulk = settle_many(
        np.full((1, 48), 1000, dtype=np.int64),
        period=parsed.period,
        resolution="PT1H",
        spot=parsed.spot,
        charges=parsed.charges,
        vat_rate=parsed.vat_rate,
        elvarme=[parsed.elvarme],
    )
    assert bulk.decimal_rows == (0,)  # registered inside the period: the Decimal path
    assert bulk.result(0) == settle(parsed)
    assert result_to_json(bulk.result(0))["lines"][5]["amount"] == "35.40"
