"""Wholesale reconciliation end to end: the simulator (DataHub) settles January per grid area
and charge (RSM-019) with one injected deviation, our settlement run bills January, and
reconciliation reports exactly that charge, grid area and month, by exactly the injected
amount, and every other charge matched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from scenario import Scenario, eventually, started

D = Decimal
PERIOD = "2025-01"
ENERGINET = "5790000432752"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A system of its own: this test moves its market clock a month ahead."""
    yield from started(
        tmp_path_factory.mktemp("wattline-wholesale"),
        {"WATTLINE_RECONCILIATION_JOB_INTERVAL_S": "1"},
    )


async def test_an_injected_wholesale_deviation_is_found_exactly(
    system: Scenario, tmp_path: Path
) -> None:
    # Given a go-live import. Seed 51: 8 of the 12 points are ours, in 3 grid areas, flex
    # (D01) and non-profiled (E02), none with solar production (settlement cannot yet pair an
    # E18 of another resolution).
    await system.given_the_go_live_import(
        metering_points=12, seed=51, ours_share="0.5", customers=1, cwd=tmp_path
    )
    export = await system.given_our_imported_points()
    ours = [r["gsrn"] for r in export if r["metering_point_type"] == "E17"]
    assert ours, export
    await system.given_settlement_knows(ours)

    # When DataHub's January settlement of one grid area's transmission tariff is 12.34 DKK off
    await system.when_a_fault_is_injected(category="Wholesale", kind="wholesale_deviation")
    await system.when_the_clock_moves_to("2025-02-02T00:00:00+00:00")
    listed = (await system.simulator("GET", "/sim/generated")).json()["wholesale"]
    [skewed] = [w for w in listed if w["deviation_dkk"] is not None]
    assert (skewed["charge_id"], D(skewed["deviation_dkk"])) == ("40000", D("12.34"))
    charges = {(w["grid_area"], w["charge_owner_gln"], w["charge_type"], w["charge_id"])
               for w in listed}  # fmt: skip
    # and January is settled
    await system.when_spot_prices_are_imported("2025-01-01", "2025-01-31")
    run = await system.when_settlement_runs(PERIOD, timeout=240)
    assert run["status"] == "completed", json.dumps(run)
    settlements = run["progress"]["settled"] + run["progress"]["already_settled"]
    assert settlements == len(ours), run

    # Then reconciliation finds exactly that deviation
    async def results() -> list[dict[str, Any]]:
        page = await system.get("/api/reconciliation/wholesale", params={"period": PERIOD})
        return list(page["items"])

    async def seen(items: list[dict[str, Any]]) -> int:
        """How many of our settlements the results hold (each bills the grid tariff): -1
        while a grid area's result lags behind the settlements that arrived."""
        total = 0
        for r in items:
            if r["charge_id"] == "NT-C-TIME":
                url = (f"/api/reconciliation/wholesale/{r['grid_area']}/{PERIOD}/"
                       f"{r['charge_owner_gln']}/D03/NT-C-TIME")  # fmt: skip
                billed = (await system.get(url))["settlements"]
                if D(r["ours_dkk"]) != sum((D(b["amount_dkk"]) for b in billed), D(0)):
                    return -1
                total += len(billed)
        return total

    async def complete() -> tuple[list[dict[str, Any]], bool]:
        items = await results()
        keyed = {(r["grid_area"], r["charge_owner_gln"], r["charge_type"], r["charge_id"])
                 for r in items}  # fmt: skip
        done = (
            keyed == charges
            and all(r["status"] in ("matched", "deviation") for r in items)
            and await seen(items) == settlements
        )
        return items, done

    items, _ = await eventually(complete, lambda found: found[1], 120)
    by_status: dict[str, list[dict[str, Any]]] = {}
    for r in items:
        by_status.setdefault(r["status"], []).append(r)
    assert set(by_status) == {"matched", "deviation"}, items
    assert len(by_status["deviation"]) == 1, json.dumps(by_status["deviation"], indent=1)
    [deviation] = by_status["deviation"]
    assert (
        deviation["grid_area"],
        deviation["charge_owner_gln"],
        deviation["charge_type"],
        deviation["charge_id"],
    ) == (skewed["grid_area"], ENERGINET, "D03", "40000")
    # Ours minus DataHub's: DataHub's figure is the injected amount too high, to the øre
    # and below (Energinet's tariff amounts need no rounding).
    assert D(deviation["deviation_dkk"]) == D("-12.34")
    assert D(deviation["datahub_dkk"]) - D(deviation["ours_dkk"]) == D("12.34")
    assert len(by_status["matched"]) == len(charges) - 1
    for r in by_status["matched"]:
        assert abs(D(r["deviation_dkk"])) < D("0.01"), r
