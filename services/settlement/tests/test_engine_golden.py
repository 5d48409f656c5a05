"""Given the golden-master scenarios of the settlement specification, when they are settled
(in process and through `wattline settle`), then every figure matches to the øre; and every
class of bad input (spec §7) exits 2 with one line on stderr and nothing on stdout."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from wattline_settlement.domain.engine import settle
from wattline_settlement.domain.scenario import (
    BadScenario,
    parse_scenario,
    result_to_json,
    scenario_from_json,
)

from wattline.cli import app

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "settlement"
GOLDEN = sorted((REFERENCE / "golden").glob("*.json"))
GOLDEN_IDS = [path.stem for path in GOLDEN]


def _golden(path: Path) -> dict[str, Any]:
    golden: dict[str, Any] = json.loads(path.read_text())
    return golden


def test_every_golden_master_is_here() -> None:
    assert {"GM01", "GM05", "GM06", "GM09", "GM10", "DST01", "SPOT01"} <= set(GOLDEN_IDS)
    assert len(GOLDEN) >= 12


@pytest.mark.parametrize("path", GOLDEN, ids=GOLDEN_IDS)
def test_golden_master_to_the_ore(path: Path) -> None:
    golden = _golden(path)
    result = result_to_json(settle(parse_scenario(golden["input"])))
    assert result == golden["expected"]
    # Same keys in the same order, same strings: the JSON text itself is identical.
    assert json.dumps(result) == json.dumps(golden["expected"])


# --- through the command line, as separate processes --------------------------------------------

BASE: dict[str, Any] = {
    "period": {"start": "2025-01-15", "end": "2025-01-16"},
    "vat_rate": "0.25",
    "consumption": {"resolution": "PT1H", "profile_utc_hourly": ["0.500"] * 24},
    "spot": {"resolution": "PT1H", "profile_utc_hourly": ["0.85"] * 24},
    "charges": {
        "supplier_margin": [{"valid_from": "2025-01-01", "dkk_per_kwh": "0.04"}],
        "grid_tariff": [{"valid_from": "2025-01-01", "dkk_per_kwh": "0.18"}],
        "system_tariff": [{"valid_from": "2025-01-01", "dkk_per_kwh": "0.054"}],
        "transmission_tariff": [{"valid_from": "2025-01-01", "dkk_per_kwh": "0.049"}],
        "electricity_tax": [{"valid_from": "2025-01-01", "dkk_per_kwh": "0.008"}],
        "grid_subscription": [{"valid_from": "2025-01-01", "dkk_per_month": "49.00"}],
        "supplier_subscription": [{"valid_from": "2025-01-01", "dkk_per_month": "39.00"}],
    },
}

# Bad input that must also fail as a real process; every rule class of §7 runs through the
# same command in process below (a process costs the CLI's ~1.5 s start-up).
PROCESS_BAD = {"invalid-json": ('{"period": {"start": "2025-01-15",', "invalid JSON")}


def _run_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wattline", "settle", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every golden input and the PROCESS_BAD cases through `python -m wattline settle`,
    run side by side (each process pays the CLI's start-up once)."""
    folder = tmp_path_factory.mktemp("cli")
    paths: dict[str, Path] = {}
    for path in GOLDEN:
        paths[path.stem] = folder / f"{path.stem}.json"
        paths[path.stem].write_text(json.dumps(_golden(path)["input"]))
    for name, (text, _) in PROCESS_BAD.items():
        paths[name] = folder / f"{name}.json"
        if text is not None:
            paths[name].write_text(text)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = dict(zip(paths, pool.map(_run_cli, paths.values()), strict=True))
    return runs


@pytest.mark.parametrize("path", GOLDEN, ids=GOLDEN_IDS)
def test_golden_master_through_the_cli(path: Path, cli_runs: dict[str, Any]) -> None:
    run = cli_runs[path.stem]
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    printed = json.loads(run.stdout)
    assert printed == _golden(path)["expected"]
    assert list(printed) == list(_golden(path)["expected"])


@pytest.mark.parametrize("name", list(PROCESS_BAD))
def test_bad_input_through_the_cli_process(name: str, cli_runs: dict[str, Any]) -> None:
    run = cli_runs[name]
    assert run.returncode == 2
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert PROCESS_BAD[name][1] in line
    assert f"{name}.json" in line


# --- every class of bad input (spec §7) ---------------------------------------------------------

Mutation = Callable[[dict[str, Any]], object]


def _points(kwh: str = "0.500", skip: str | None = None) -> list[dict[str, str]]:
    hours = [f"2025-01-14T{h:02d}:00Z" for h in (23,)] + [
        f"2025-01-15T{h:02d}:00Z" for h in range(23)
    ]
    return [{"start": h, "kwh": kwh} for h in hours if h != skip]


def _quarters(skip: str) -> list[dict[str, str]]:
    starts = ["2025-01-14T23:00Z", "2025-01-14T23:15Z", "2025-01-14T23:30Z", "2025-01-14T23:45Z"]
    starts += [f"2025-01-15T{h:02d}:{m:02d}Z" for h in range(23) for m in (0, 15, 30, 45)]
    return [{"start": s, "dkk_per_kwh": "0.85"} for s in starts if s != skip]


def _set(*path_and_value: Any) -> Mutation:
    *path, value = path_and_value

    def mutate(s: dict[str, Any]) -> None:
        target = s
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(*path: Any) -> Mutation:
    def mutate(s: dict[str, Any]) -> None:
        target = s
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _correction(corrected: dict[str, Any]) -> Mutation:
    def mutate(s: dict[str, Any]) -> None:
        s["kind"] = "correction"
        s["corrected_consumption"] = corrected

    return mutate


HOURLY_15M = {"resolution": "PT15M", "profile_utc_hourly": ["0.100"] * 24}
BAD_CASES: dict[str, tuple[Mutation, str]] = {
    # unknown and missing keys, unknown kind and resolution
    "unknown-key": (_set("vat", "0.25"), 'scenario: unknown key "vat"'),
    "unknown-key-in-series": (
        _set("consumption", "unit", "kWh"),
        'consumption: unknown key "unit"',
    ),
    "unknown-key-in-version": (
        _set("charges", "system_tariff", 0, "note", "x"),
        'charges.system_tariff[0]: unknown key "note"',
    ),
    "unknown-charge": (_set("charges", "fee", []), 'charges: unknown key "fee"'),
    "missing-key": (_delete("vat_rate"), 'scenario: missing key "vat_rate"'),
    "missing-charge": (_delete("charges", "electricity_tax"), 'missing key "electricity_tax"'),
    "missing-resolution": (_delete("spot", "resolution"), 'spot: missing key "resolution"'),
    "unknown-kind": (_set("kind", "invoice"), 'kind: unknown kind "invoice"'),
    "unknown-resolution": (
        _set("spot", "resolution", "PT30M"),
        'spot.resolution: unknown resolution "PT30M"',
    ),
    "empty-object": (lambda s: s.clear(), 'scenario: missing key "period"'),
    # decimals
    "json-number": (_set("vat_rate", 0.25), "vat_rate: 0.25 is a JSON number"),
    "json-integer": (
        _set("consumption", "profile_utc_hourly", 3, 1),
        "consumption.profile_utc_hourly[3]: 1 is a JSON number",
    ),
    "not-a-decimal": (
        _set("spot", "profile_utc_hourly", 0, "1e-3"),
        'spot.profile_utc_hourly[0]: "1e-3" is not a decimal',
    ),
    "kwh-4-decimals": (
        _set("consumption", "profile_utc_hourly", 5, "0.5000"),
        "consumption.profile_utc_hourly[5]: 0.5000 has more than 3 decimals",
    ),
    "price-7-decimals": (
        _set("charges", "grid_tariff", 0, "dkk_per_kwh", "0.1234567"),
        "charges.grid_tariff[0].dkk_per_kwh: 0.1234567 has more than 6 decimals",
    ),
    "month-3-decimals": (
        _set("charges", "grid_subscription", 0, "dkk_per_month", "49.001"),
        "has more than 2 decimals",
    ),
    "aconto-3-decimals": (_set("aconto", {"paid": "1.001"}), "aconto.paid: 1.001 has more"),
    "vat-7-decimals": (_set("vat_rate", "0.2500001"), "more than 6 decimals"),
    "negative-kwh": (
        _set("consumption", "points", [{"start": "2025-01-15T10:00Z", "kwh": "-0.100"}]),
        "consumption.points[0].kwh: -0.100 is negative",
    ),
    "negative-vat": (_set("vat_rate", "-0.25"), "vat_rate: -0.25 is negative"),
    "negative-threshold": (
        _set(
            "elvarme",
            {
                "threshold_kwh": "-1",
                "consumed_kwh_before_period": "0",
                "reduced_electricity_tax": [{"valid_from": "2025-01-01", "dkk_per_kwh": "0.008"}],
            },
        ),
        "elvarme.threshold_kwh: -1 is negative",
    ),
    # dates and timestamps
    "bad-date": (_set("period", "start", "2025-02-30"), 'period.start: "2025-02-30" is not a date'),
    "bad-date-format": (
        _set("charges", "grid_tariff", 0, "valid_from", "2025-1-1"),
        'charges.grid_tariff[0].valid_from: "2025-1-1" is not a date',
    ),
    "bad-timestamp-seconds": (
        _set("consumption", "points", [{"start": "2025-01-15T10:00:30Z", "kwh": "1"}]),
        'consumption.points[0].start: "2025-01-15T10:00:30Z" is not a timestamp',
    ),
    "bad-timestamp-no-zone": (
        _set("consumption", "points", [{"start": "2025-01-15T10:00", "kwh": "1"}]),
        "is not a timestamp",
    ),
    "end-not-after-start": (
        _set("period", "end", "2025-01-15"),
        "period: end 2025-01-15 is not after start 2025-01-15",
    ),
    # alignment, duplicates, profiles
    "not-aligned-hour": (
        _set("consumption", "points", [{"start": "2025-01-15T10:15Z", "kwh": "1"}]),
        "consumption.points[0].start: 2025-01-15T10:15Z is not aligned to PT1H",
    ),
    "not-aligned-quarter": (
        _set("consumption", {**HOURLY_15M, "points": [{"start": "2025-01-15T10:20Z", "kwh": "1"}]}),
        "2025-01-15T10:20Z is not aligned to PT15M",
    ),
    "not-aligned-outside-period": (
        _set("consumption", "points", [{"start": "2025-03-01T10:30Z", "kwh": "1"}]),
        "consumption.points[0].start: 2025-03-01T10:30Z is not aligned to PT1H",
    ),
    "duplicate-interval": (
        _set(
            "consumption",
            "points",
            [
                {"start": "2025-01-15T10:00Z", "kwh": "1"},
                {"start": "2025-01-15T10:00Z", "kwh": "2"},
            ],
        ),
        "consumption.points[1]: a second value for interval 2025-01-15T10:00Z",
    ),
    "profile-too-short": (
        _set("consumption", "profile_utc_hourly", ["0.500"] * 23),
        "consumption.profile_utc_hourly: 23 values, need 24",
    ),
    "quarter-profile-too-long": (
        _set("spot", {"resolution": "PT15M", "profile_utc_quarter_hourly": ["0.85"] * 97}),
        "spot.profile_utc_quarter_hourly: 97 values, need 96",
    ),
    "both-profiles": (
        _set("spot", {**HOURLY_15M, "profile_utc_quarter_hourly": ["0.85"] * 96}),
        "spot: both profile_utc_hourly and profile_utc_quarter_hourly",
    ),
    "quarter-profile-on-hourly": (
        _set("spot", {"resolution": "PT1H", "profile_utc_quarter_hourly": ["0.85"] * 96}),
        "spot.profile_utc_quarter_hourly: only for a PT15M series",
    ),
    "neither-profile-nor-points": (
        _set("consumption", {"resolution": "PT1H"}),
        "consumption: neither a profile nor points",
    ),
    # coverage
    "consumption-hour-missing": (
        _set("consumption", {"resolution": "PT1H", "points": _points(skip="2025-01-15T10:00Z")}),
        "consumption: interval 2025-01-15T10:00Z has no value",
    ),
    "spot-quarter-missing-for-hourly-mean": (
        _set("spot", {"resolution": "PT15M", "points": _quarters(skip="2025-01-15T10:45Z")}),
        "spot: interval 2025-01-15T10:45Z has no value",
    ),
    "production-hour-missing": (
        _set("production", {"resolution": "PT1H", "points": _points(skip="2025-01-14T23:00Z")}),
        "production: interval 2025-01-14T23:00Z has no value",
    ),
    "corrected-hour-missing": (
        _correction({"resolution": "PT1H", "points": _points(skip="2025-01-15T22:00Z")}),
        "corrected_consumption: interval 2025-01-15T22:00Z has no value",
    ),
    "production-other-resolution": (
        _set("production", HOURLY_15M),
        "production: resolution PT15M, consumption's is PT1H",
    ),
    "corrected-other-resolution": (
        _correction(HOURLY_15M),
        "corrected_consumption: resolution PT15M, consumption's is PT1H",
    ),
    # charges
    "no-version-on-a-supplied-day": (
        _set("charges", "system_tariff", 0, "valid_from", "2025-01-16"),
        "charges.system_tariff: no version valid on 2025-01-15",
    ),
    "two-versions-same-day": (
        _set(
            "charges",
            "supplier_margin",
            [
                {"valid_from": "2025-01-01", "dkk_per_kwh": "0.04"},
                {"valid_from": "2025-01-01", "dkk_per_kwh": "0.05"},
            ],
        ),
        "charges.supplier_margin: two versions valid from 2025-01-01",
    ),
    "no-versions": (_set("charges", "electricity_tax", []), "charges.electricity_tax: empty"),
    "grid-both": (
        _set("charges", "grid_tariff", 0, "hourly_dkk_per_kwh", ["0.1"] * 24),
        "charges.grid_tariff[0]: give exactly one of hourly_dkk_per_kwh and dkk_per_kwh",
    ),
    "grid-neither": (
        _delete("charges", "grid_tariff", 0, "dkk_per_kwh"),
        "charges.grid_tariff[0]: give exactly one of",
    ),
    "grid-23-positions": (
        _set(
            "charges",
            "grid_tariff",
            0,
            {"valid_from": "2025-01-01", "hourly_dkk_per_kwh": ["0.1"] * 23},
        ),
        "charges.grid_tariff[0].hourly_dkk_per_kwh: 23 positions, need 24",
    ),
    "elvarme-rate-not-valid": (
        _set(
            "elvarme",
            {
                "consumed_kwh_before_period": "0",
                "reduced_electricity_tax": [{"valid_from": "2025-02-01", "dkk_per_kwh": "0.008"}],
            },
        ),
        "elvarme.reduced_electricity_tax: no version valid on 2025-01-15",
    ),
    # kinds
    "aconto-with-correction": (
        lambda s: (_correction(BASE["consumption"])(s), s.update(aconto={"paid": "1.00"})),
        "aconto: only with kind settlement, not correction",
    ),
    "corrected-with-settlement": (
        _set("corrected_consumption", BASE["consumption"]),
        "corrected_consumption: only with kind correction, not settlement",
    ),
    "correction-without-corrected": (
        _set("kind", "correction"),
        'missing key "corrected_consumption"',
    ),
    "invoice-periods-with-settlement": (
        _set("invoice_periods", [{"start": "2025-01-15", "end": "2025-01-16"}]),
        "invoice_periods: only with kind erroneous_switch, not settlement",
    ),
    # invoice periods that do not split the period
    "invoice-periods-gap": (
        lambda s: s.update(
            kind="erroneous_switch",
            period={"start": "2025-01-15", "end": "2025-01-18"},
            invoice_periods=[
                {"start": "2025-01-15", "end": "2025-01-16"},
                {"start": "2025-01-17", "end": "2025-01-18"},
            ],
        ),
        "invoice_periods[1]: starts 2025-01-17, not where the previous one ends (2025-01-16)",
    ),
    "invoice-periods-short": (
        lambda s: s.update(
            kind="erroneous_switch",
            period={"start": "2025-01-15", "end": "2025-01-18"},
            invoice_periods=[{"start": "2025-01-15", "end": "2025-01-17"}],
        ),
        "invoice_periods[0]: ends 2025-01-17, the period 2025-01-18",
    ),
    "invoice-periods-empty": (
        lambda s: s.update(kind="erroneous_switch", invoice_periods=[]),
        "invoice_periods: empty",
    ),
}


def test_the_base_of_the_bad_cases_is_good() -> None:
    result = result_to_json(settle(parse_scenario(copy.deepcopy(BASE))))
    # 12 kWh: spot 10.20, margin 0.48, grid 2.16, system 0.65, transmission 0.59, tax 0.10,
    # subscriptions 49/31 = 1.58 and 39/31 = 1.26; subtotal 17.02, VAT 4.255 -> 4.26.
    assert (result["subtotal"], result["vat"], result["total"]) == ("17.02", "4.26", "21.28")


runner = CliRunner()


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_exits_2_with_one_line(case: str, tmp_path: Path) -> None:
    mutate, expected = BAD_CASES[case]
    scenario = copy.deepcopy(BASE)
    mutate(scenario)
    with pytest.raises(BadScenario) as raised:
        parse_scenario(scenario)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)

    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    run = runner.invoke(app, ["settle", str(path)])
    assert run.exit_code == 2
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line == f"{path}: {raised.value}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "scenario: expected an object, got an array"),
        ('{"vat_rate": "0.25", "vat_rate": "0.25"}', 'key "vat_rate" given twice'),
        ('{"vat_rate": NaN}', "invalid JSON: NaN is not a JSON value"),
        (b"\xff\xfe{", "invalid JSON"),
        ("", "invalid JSON: Expecting value"),
        ('{"period": ', "invalid JSON"),
    ],
)
def test_text_that_is_not_a_scenario(text: str | bytes, expected: str, tmp_path: Path) -> None:
    with pytest.raises(BadScenario) as raised:
        scenario_from_json(text)
    assert expected in str(raised.value)
    path = tmp_path / "scenario.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    run = runner.invoke(app, ["settle", str(path)])
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [f"{path}: {raised.value}"]


@pytest.mark.parametrize("name", ["missing.json", "."])
def test_an_unreadable_file_exits_2(name: str, tmp_path: Path) -> None:
    run = runner.invoke(app, ["settle", str(tmp_path / name)])
    assert (run.exit_code, run.stdout) == (2, "")
    [line] = run.stderr.splitlines()
    assert line.startswith(f"{tmp_path / name}: cannot read: ")
