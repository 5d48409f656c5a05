"""Wholesale reconciliation end to end: the simulator (DataHub) settles January per grid area
and charge (RSM-019) with one injected deviation, our settlement run bills January, and
reconciliation reports exactly that charge, grid area and month, by exactly the injected
amount, and every other charge matched."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_system import System, running, wait_for, wattline

D = Decimal
PERIOD = "2025-01"
ENERGINET = "5790000432752"


@pytest.fixture(scope="module")
def wholesale_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A system of its own: this test moves its market clock a month ahead."""
    yield from running(
        tmp_path_factory.mktemp("wattline-wholesale"),
        {"WATTLINE_RECONCILIATION_JOB_INTERVAL_S": "1"},
    )


def _settle(api: httpx.Client, period: str, timeout: float = 240) -> dict[str, Any]:
    """A settlement run through the API; while DataHub's month is still arriving a run is
    blocked (metering data missing), so a new one is started until one completes."""
    deadline = time.monotonic() + timeout
    while True:
        started = api.post("/api/settlement/runs", json={"period": period})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        run = wait_for(
            lambda r=run_id: api.get(f"/api/settlement/runs/{r}").json(),
            lambda r: r["status"] in ("completed", "blocked", "failed"),
            60,
        )
        if run["status"] == "completed" or time.monotonic() > deadline:
            assert run["status"] == "completed", json.dumps(run)
            return dict(run)
        time.sleep(3)


def test_an_injected_wholesale_deviation_is_found_exactly(
    wholesale_system: System, tmp_path: Path
) -> None:
    system = wholesale_system
    # Seed 51: 8 of the 12 points are ours, in 3 grid areas, flex (D01) and non-profiled (E02),
    # none with solar production (settlement cannot yet pair an E18 of another resolution).
    seeded = wattline("sim", "seed", "--metering-points", "12", "--seed", "51", "--ours-share",
                      "0.5", "--customers", "1", home=system.home, cwd=tmp_path)  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    with (
        httpx.Client(base_url=system.url, headers={"X-API-Key": system.key}, timeout=60) as api,
        httpx.Client(
            base_url=system.simulator_url, timeout=600, auth=system.identity_auth()
        ) as sim,
    ):
        export = list(csv.DictReader(io.StringIO(sim.get("/sim/portfolio-import.csv").text)))
        ours = [r["gsrn"] for r in export if r["metering_point_type"] == "E17"]
        assert ours, export
        for gsrn in ours:
            known = wait_for(lambda g=gsrn: api.get(f"/api/settlement/metering-points/{g}"),
                             lambda r: r.status_code == 200)  # fmt: skip
            assert known.status_code == 200, known.text

        # DataHub's January settlement of one grid area's transmission tariff is 12.34 DKK off.
        injected = sim.post(
            "/sim/faults", json={"category": "Wholesale", "kind": "wholesale_deviation"}
        )
        assert injected.status_code == 201, injected.text
        moved = sim.post("/sim/clock", json={"to": "2025-02-02T00:00:00+00:00"})
        assert moved.status_code == 200, moved.text
        listed = sim.get("/sim/generated").json()["wholesale"]
        [skewed] = [w for w in listed if w["deviation_dkk"] is not None]
        assert (skewed["charge_id"], D(skewed["deviation_dkk"])) == ("40000", D("12.34"))
        charges = {(w["grid_area"], w["charge_owner_gln"], w["charge_type"], w["charge_id"])
                   for w in listed}  # fmt: skip

        for area in ("DK1", "DK2"):
            spot = api.post(
                "/api/settlement/spot-prices/import",
                json={"price_area": area, "from": "2025-01-01", "to": "2025-01-31"},
            )
            assert spot.status_code == 200, spot.text
        run = _settle(api, PERIOD)
        settlements = run["progress"]["settled"] + run["progress"]["already_settled"]
        assert settlements == len(ours), run

        def results() -> list[dict[str, Any]]:
            page = api.get("/api/reconciliation/wholesale", params={"period": PERIOD}).json()
            return list(page["items"])

        def seen(items: list[dict[str, Any]]) -> int:
            """How many of our settlements the results hold (each bills the grid tariff): -1
            while a grid area's result lags behind the settlements that arrived."""
            total = 0
            for r in items:
                if r["charge_id"] == "NT-C-TIME":
                    url = (f"/api/reconciliation/wholesale/{r['grid_area']}/{PERIOD}/"
                           f"{r['charge_owner_gln']}/D03/NT-C-TIME")  # fmt: skip
                    billed = api.get(url).json()["settlements"]
                    if D(r["ours_dkk"]) != sum((D(b["amount_dkk"]) for b in billed), D(0)):
                        return -1
                    total += len(billed)
            return total

        def complete(items: list[dict[str, Any]]) -> bool:
            keyed = {(r["grid_area"], r["charge_owner_gln"], r["charge_type"], r["charge_id"])
                     for r in items}  # fmt: skip
            return (
                keyed == charges
                and all(r["status"] in ("matched", "deviation") for r in items)
                and seen(items) == settlements
            )

        items = wait_for(results, complete, 120)
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
