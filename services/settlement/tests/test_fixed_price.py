"""Fixed-price products (the default catalogue's Fastpris): given a fixed energy price instead
of spot + margin, when a period is settled, then the energy is one ``fixed_price_energy``
line (Σ kWh x the price, rounded half up once), with no spot or margin line and every other
line as for a spot product; in process, in bulk and through ``wattline settle``."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from wattline_settlement.domain.bulk import settle_many
from wattline_settlement.domain.engine import settle
from wattline_settlement.domain.scenario import BadScenario, parse_scenario, result_to_json

FX01 = Path(__file__).parent / "golden" / "FX01.json"
GOLDEN: dict[str, Any] = json.loads(FX01.read_text())


def test_fastpris_worked_case_to_the_ore() -> None:
    # 211.200 kWh x 1.10 = 232.32; grid 53.38, system 11.40, transmission 10.35, tax 1.69,
    # grid subscription 49 x 16/31 = 25.29, supplier subscription 29 x 16/31 = 14.97;
    # subtotal 349.40, VAT 87.35, total 436.75 (the notes of FX01.json).
    result = result_to_json(settle(parse_scenario(GOLDEN["input"])))
    assert result == GOLDEN["expected"]
    assert [line["code"] for line in result["lines"]] == [
        "fixed_price_energy",
        "grid_tariff",
        "system_tariff",
        "transmission_tariff",
        "electricity_tax",
        "grid_subscription",
        "supplier_subscription",
    ]
    assert json.dumps(result) == json.dumps(GOLDEN["expected"])


def test_fastpris_through_the_cli_process(tmp_path: Path) -> None:
    path = tmp_path / "FX01.json"
    path.write_text(json.dumps(GOLDEN["input"]))
    run = subprocess.run(
        [sys.executable, "-m", "wattline", "settle", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (run.returncode, run.stderr) == (0, "")
    assert json.loads(run.stdout) == GOLDEN["expected"]


def _scenario(**charges: Any) -> dict[str, Any]:
    scenario = copy.deepcopy(GOLDEN["input"])
    scenario["charges"].update(charges)
    return scenario


def _line(result: dict[str, Any], code: str) -> dict[str, Any]:
    [found] = [line for line in result["lines"] if line["code"] == code]
    return found


def test_the_fixed_price_is_rounded_once_over_the_whole_period() -> None:
    # 211.200 kWh x 1.234567 = 260.7405504 -> 260.74; rounded per day it would be
    # 16 x round(13.2 x 1.234567 = 16.2962844) = 16 x 16.30 = 260.80.
    result = result_to_json(
        settle(
            parse_scenario(
                _scenario(fixed_price=[{"valid_from": "2025-01-01", "dkk_per_kwh": "1.234567"}])
            )
        )
    )
    assert _line(result, "fixed_price_energy")["amount"] == "260.74"


def test_a_new_fixed_price_applies_from_its_local_date() -> None:
    # 16-23 January: 8 x 13.2 = 105.6 kWh x 1.10 = 116.16; 24-31 January: 105.6 x 1.20 =
    # 126.72; one line of 242.88 (and 242.88 - 232.32 = 10.56 more than FX01's subtotal).
    prices = [
        {"valid_from": "2025-01-01", "dkk_per_kwh": "1.10"},
        {"valid_from": "2025-01-24", "dkk_per_kwh": "1.20"},
    ]
    result = result_to_json(settle(parse_scenario(_scenario(fixed_price=prices))))
    assert _line(result, "fixed_price_energy") == {
        "code": "fixed_price_energy",
        "quantity_kwh": "211.200",
        "days": None,
        "amount": "242.88",
    }
    assert (result["subtotal"], result["vat"], result["total"]) == ("359.96", "89.99", "449.95")


def test_a_fixed_price_solar_customer_is_credited_the_spot_price_for_export() -> None:
    # 1 January, 1.000 kWh consumed and 1.500 produced every hour: nothing imported, 0.500
    # kWh exported an hour at spot 0.85: credit 24 x 0.5 x 0.85 = -10.20; energy 0.00.
    scenario = _scenario()
    scenario["period"] = {"start": "2025-01-01", "end": "2025-01-02"}
    scenario["consumption"] = {"resolution": "PT1H", "profile_utc_hourly": ["1.000"] * 24}
    scenario["production"] = {"resolution": "PT1H", "profile_utc_hourly": ["1.500"] * 24}
    with pytest.raises(BadScenario, match="spot: required with production"):
        parse_scenario(scenario)
    scenario["spot"] = {"resolution": "PT1H", "profile_utc_hourly": ["0.85"] * 24}
    result = result_to_json(settle(parse_scenario(scenario)))
    assert _line(result, "fixed_price_energy")["amount"] == "0.00"
    assert _line(result, "solar_export_credit") == {
        "code": "solar_export_credit",
        "quantity_kwh": "12.000",
        "days": None,
        "amount": "-10.20",
    }
    assert "spot_energy" not in {line["code"] for line in result["lines"]}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda s: s["charges"].update(
                supplier_margin=[{"valid_from": "2025-01-01", "dkk_per_kwh": "0.04"}]
            ),
            "charges.supplier_margin/fixed_price: two versions valid from 2025-01-01",
        ),
        (
            lambda s: s["charges"].pop("fixed_price"),
            "charges: give supplier_margin (a spot product), fixed_price (a fixed-price "
            "product) or both",
        ),
        (
            lambda s: s["charges"].update(
                supplier_margin=[{"valid_from": "2025-01-20", "dkk_per_kwh": "0.04"}]
            ),
            "spot: required unless every day has a fixed_price",
        ),
        (
            lambda s: s["charges"].update(fixed_price=[]),
            "charges.fixed_price: empty",
        ),
        (
            lambda s: s["charges"].update(
                fixed_price=[{"valid_from": "2025-01-20", "dkk_per_kwh": "1.10"}]
            ),
            "charges.fixed_price: no version valid on 2025-01-16",
        ),
        (
            lambda s: s["charges"].update(
                fixed_price=[{"valid_from": "2025-01-01", "dkk_per_kwh": "1.1000001"}]
            ),
            "has more than 6 decimals",
        ),
    ],
)
def test_bad_fixed_price_input(mutate: Any, message: str) -> None:
    scenario = copy.deepcopy(GOLDEN["input"])
    mutate(scenario)
    with pytest.raises(BadScenario, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_scenario(scenario)


def test_a_spot_product_still_needs_spot_prices() -> None:
    scenario = copy.deepcopy(GOLDEN["input"])
    scenario["charges"]["supplier_margin"] = scenario["charges"].pop("fixed_price")
    with pytest.raises(BadScenario, match='missing key "spot"'):
        parse_scenario(scenario)


def test_bulk_settles_fixed_prices_as_the_engine_does() -> None:
    scenario = parse_scenario(
        _scenario(fixed_price=[{"valid_from": "2025-01-01", "dkk_per_kwh": "1.234567"}])
    )
    rng = np.random.default_rng(14)
    wh = rng.integers(0, 4000, size=(5, len(scenario.consumption.values)), dtype=np.int64)
    bulk = settle_many(
        wh,
        period=scenario.period,
        resolution="PT1H",
        spot=None,
        charges=scenario.charges,
        vat_rate=scenario.vat_rate,
    )
    assert bulk.decimal_rows == ()  # vectorised, not the Decimal fallback
    assert bulk.codes[0] == "fixed_price_energy"
    for row in range(5):
        consumption = replace(
            scenario.consumption, values=tuple(Decimal(int(v)).scaleb(-3) for v in wh[row])
        )
        assert bulk.result(row) == settle(replace(scenario, consumption=consumption))


def test_a_change_from_spot_to_fixed_inside_the_period_prices_each_day_by_its_product() -> None:
    # 16-31 January: Spot (margin 0.04) until the 23rd, Fastpris 1.10 from the 24th. 8 days
    # of 13.2 kWh each: spot 8 x 11.94 = 95.52, margin 105.6 x 0.04 = 4.224 -> 4.22, fixed
    # 105.6 x 1.10 = 116.16; the tariffs over all 211.2 kWh as in FX01.
    scenario = _scenario(
        supplier_margin=[{"valid_from": "2025-01-01", "dkk_per_kwh": "0.04"}],
        fixed_price=[{"valid_from": "2025-01-24", "dkk_per_kwh": "1.10"}],
    )
    gm = json.loads((FX01.parents[4].parent / "shared/reference/settlement/golden/GM04.json")
                    .read_text())  # fmt: skip
    scenario["spot"] = gm["input"]["spot"]
    result = result_to_json(settle(parse_scenario(scenario)))
    assert [(x["code"], x["quantity_kwh"], x["amount"]) for x in result["lines"][:4]] == [
        ("spot_energy", "105.600", "95.52"),
        ("supplier_margin", "105.600", "4.22"),
        ("fixed_price_energy", "105.600", "116.16"),
        ("grid_tariff", "211.200", "53.38"),
    ]
    # 95.52 + 4.22 + 116.16 + 53.38 + 11.40 + 10.35 + 1.69 + 25.29 + 14.97 = 332.98
    assert (result["subtotal"], result["vat"], result["total"]) == ("332.98", "83.25", "416.23")
    # The bulk path gives the same figures
    parsed = parse_scenario(scenario)
    wh = np.asarray([[int(v * 1000) for v in parsed.consumption.values]], dtype=np.int64)
    bulk = settle_many(
        wh,
        period=parsed.period,
        resolution="PT1H",
        spot=parsed.spot,
        charges=parsed.charges,
        vat_rate=parsed.vat_rate,
    )
    assert bulk.decimal_rows == ()
    assert bulk.result(0) == settle(parsed)
