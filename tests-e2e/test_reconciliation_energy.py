"""Energy reconciliation end to end: the simulator (DataHub) generates a day whose RSM-014 for
one grid area is +1.000 kWh off in one hour (an injected ``aggregation_deviation``); once the
day's RSM-012s and RSM-014s are ingested, reconciliation reports exactly that grid area, day
and hour as a deviation of exactly 1.000 kWh and every other slice matched. Asking DataHub for
that grid area's totals again (RSM-016, through the datahub service) brings the undistorted
figures, and the day is matched; asking for its wholesale settlement of the month (RSM-017)
brings an RSM-019 that wholesale reconciliation takes in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from e2e_system import System, running, wait_for, wattline

pytestmark = pytest.mark.e2e

D = Decimal


@pytest.fixture(scope="module")
def energy_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A system of its own: this test moves its market clock and skews DataHub's totals."""
    yield from running(
        tmp_path_factory.mktemp("wattline-energy"),
        # The job's own requests for gaps wait (REQUEST_MISSING_AFTER_S, hours) for the other
        # side of a day to arrive; the simulator would answer one with undistorted totals.
        {"WATTLINE_RECONCILIATION_JOB_INTERVAL_S": "1"},
    )


def _fetch(system: System, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(system.admin_dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def test_an_injected_rsm014_deviation_is_found_exactly_and_an_rsm016_request_clears_it(
    energy_system: System, tmp_path: Path
) -> None:
    system = energy_system
    seeded = wattline("sim", "seed", "--metering-points", "12", "--seed", "5", "--ours-share",
                      "0.5", "--customers", "1", home=system.home, cwd=tmp_path)  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    with (
        httpx.Client(base_url=system.url, headers={"X-API-Key": system.key}, timeout=60) as api,
        httpx.Client(
            base_url=system.simulator_url, timeout=600, auth=system.identity_auth()
        ) as sim,
    ):
        # Reconciliation knows which points are ours before DataHub's day arrives.
        supplied = wait_for(
            lambda: _fetch(system, "SELECT DISTINCT gsrn FROM reconciliation.supply_periods"),
            lambda rows: len(rows) > 0,
        )
        assert supplied, "reconciliation has no supply periods"

        # DataHub's RSM-014 of one grid area (the first) is +1.000 kWh off in one hour.
        injected = sim.post(
            "/sim/faults", json={"category": "Aggregations", "kind": "aggregation_deviation"}
        )
        assert injected.status_code == 201, injected.text
        moved = sim.post("/sim/clock", json={"advance_days": 1})
        assert moved.status_code == 200, moved.text
        days = sim.get("/sim/generated").json()["days"]
        [generated] = [d for d in days if d["aggregates"]]
        day = date.fromisoformat(generated["local_date"])
        areas = sorted(a["grid_area"] for a in generated["aggregates"])
        [skewed] = [a for a in generated["aggregates"] if a["deviation"] is not None]
        assert D(skewed["deviation"]["kwh"]) == D("1.000")
        hour = skewed["deviation"]["position"] - 1  # the simulator counts positions from 1

        def all_slices() -> list[dict[str, Any]]:
            page = api.get("/api/reconciliation/results", params={"period": f"{day:%Y-%m}"})
            assert page.status_code == 200, page.text
            return [r for r in page.json()["items"] if r["local_date"] == day.isoformat()]

        def results() -> list[dict[str, Any]]:
            # DataHub's RSM-014 (the simulator's) is of flex consumption; a production point
            # of ours makes a slice DataHub sends no totals for (missing_datahub, no deviation).
            return [r for r in all_slices() if (r["metering_point_type"], r["settlement_method"])
                    == ("E17", "D01")]  # fmt: skip

        def settled(items: list[dict[str, Any]]) -> bool:
            return sorted(r["grid_area"] for r in items) == areas and all(
                r["status"] in ("matched", "deviation") for r in items
            )

        items = wait_for(results, settled, 90)
        assert settled(items), (areas, [_brief(r) for r in items])
        statuses = {r["grid_area"]: r["status"] for r in items}
        assert statuses == {a: "deviation" if a == skewed["grid_area"] else "matched"
                            for a in areas}  # fmt: skip
        [deviating] = [r for r in items if r["status"] == "deviation"]
        # Ours minus DataHub's: DataHub counted exactly 1.000 kWh more, in one hour.
        assert D(deviating["deviation_kwh"]) == D("-1.000")
        assert (deviating["hours_deviating"], deviating["hours_missing_ours"]) == (1, 0)
        assert deviating["hours_matched"] == len(generated_hours(generated)) - 1
        for r in items:
            if r["status"] == "matched":
                assert D(r["deviation_kwh"]) == 0 and r["hours_deviating"] == 0, r
        for r in all_slices():
            if r not in items:
                assert (r["status"], r["hours_deviating"]) == ("missing_datahub", 0), r

        detail = api.get(f"/api/reconciliation/results/{skewed['grid_area']}/{day}").json()
        flex = [h for h in detail["hours"] if h["metering_point_type"] == "E17"]
        assert len(flex) == len(generated_hours(generated))
        off = [h for h in flex if h["status"] != "matched"]
        assert [(h["position"], h["status"]) for h in off] == [(hour, "deviation")]
        [h] = off
        assert D(h["datahub_kwh"]) - D(h["ours_kwh"]) == D("1.000")
        assert D(h["deviation_kwh"]) == D("-1.000")

        # Ask DataHub for that grid area's totals of the day again (RSM-016): the datahub
        # service sends it, the simulator answers with the true totals, and the day matches.
        asked = api.post(
            "/api/reconciliation/requests",
            json={"kind": "RSM-016", "grid_area": skewed["grid_area"],
                  "start_date": day.isoformat(),
                  "end_date": (day + timedelta(days=1)).isoformat()},
        )  # fmt: skip
        assert asked.status_code == 202, asked.text
        request_id = asked.json()["request_id"]
        sent = wait_for(
            lambda: _fetch(
                system,
                "SELECT state, document_type FROM datahub.outbound_requests "
                "WHERE request_id = $1::uuid",
                request_id,
            ),
            lambda rows: bool(rows) and rows[0]["state"] == "sent",
            60,
        )
        assert [tuple(r) for r in sent] == [("sent", "RequestAggregatedMeasureData")]
        # ... and reconciliation hears of it (datahub.request.sent).
        status = wait_for(
            lambda: api.get(f"/api/reconciliation/requests/{request_id}").json(),
            lambda r: r["status"] != "raised",
            30,
        )
        assert (status["status"], status["kind"], status["automatic"]) == ("sent", "RSM-016", False)

        def skewed_area() -> dict[str, Any]:
            [r] = [r for r in results() if r["grid_area"] == skewed["grid_area"]]
            return r

        cleared = wait_for(skewed_area, lambda r: r["status"] == "matched", 60)
        assert cleared["status"] == "matched", cleared
        assert D(cleared["deviation_kwh"]) == 0
        assert {r["status"] for r in results()} == {"matched"}

        # A grid area's wholesale settlement of the month so far (RSM-017): sent as a
        # RequestWholesaleSettlement, answered with an RSM-019 that wholesale reconciliation
        # takes in (DataHub sends none of its own before the month is over).
        wholesale = api.post(
            "/api/reconciliation/requests",
            json={"kind": "RSM-017", "grid_area": skewed["grid_area"],
                  "billing_period": f"{day:%Y-%m}"},
        )  # fmt: skip
        assert wholesale.status_code == 202, wholesale.text
        wholesale_id = wholesale.json()["request_id"]
        sent = wait_for(
            lambda: _fetch(
                system,
                "SELECT state, document_type FROM datahub.outbound_requests "
                "WHERE request_id = $1::uuid",
                wholesale_id,
            ),
            lambda rows: bool(rows) and rows[0]["state"] == "sent",
            60,
        )
        assert [tuple(r) for r in sent] == [("sent", "RequestWholesaleSettlement")]

        def billed_by_datahub() -> list[dict[str, Any]]:
            page = api.get("/api/reconciliation/wholesale", params={"period": f"{day:%Y-%m}"})
            assert page.status_code == 200, page.text
            return [r for r in page.json()["items"] if r["datahub_dkk"] is not None]

        answered = wait_for(billed_by_datahub, bool, 60)
        assert answered and {r["grid_area"] for r in answered} == {skewed["grid_area"]}, answered
        done = api.get(f"/api/reconciliation/requests/{wholesale_id}").json()
        assert (done["status"], done["kind"]) == ("sent", "RSM-017")


def _brief(r: dict[str, Any]) -> str:
    return (f"{r['grid_area']} {r['metering_point_type']}/{r['settlement_method']} {r['status']} "
            f"dh={r['datahub_kwh']} ours={r['ours_kwh']} m={r['hours_matched']} "
            f"d={r['hours_deviating']} mo={r['hours_missing_ours']} "
            f"md={r['hours_missing_datahub']}")  # fmt: skip


def generated_hours(generated: dict[str, Any]) -> list[int]:
    """The hours of the generated local day (23, 24 or 25), from its UTC bounds."""
    start = datetime.fromisoformat(generated["start"])
    end = datetime.fromisoformat(generated["end"])
    return list(range(int((end - start).total_seconds() // 3600)))
