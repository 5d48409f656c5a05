"""Energy reconciliation end to end: the simulator (DataHub) generates a day whose RSM-014 for
one grid area is +1.000 kWh off in one hour (an injected ``aggregation_deviation``); once the
day's RSM-012s and RSM-014s are ingested, reconciliation reports exactly that grid area, day
and hour as a deviation of exactly 1.000 kWh and every other slice matched. Asking DataHub for
that grid area's totals again (RSM-016, through the datahub service) brings the undistorted
figures, and the day is matched; asking for its wholesale settlement of the month (RSM-017)
brings an RSM-019 that wholesale reconciliation takes in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from scenario import Scenario, eventually, started

pytestmark = pytest.mark.e2e

D = Decimal


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A system of its own: this test moves its market clock and skews DataHub's totals."""
    yield from started(
        tmp_path_factory.mktemp("wattline-energy"),
        # The job's own requests for gaps wait (REQUEST_MISSING_AFTER_S, hours) for the other
        # side of a day to arrive; the simulator would answer one with undistorted totals.
        {"WATTLINE_RECONCILIATION_JOB_INTERVAL_S": "1"},
    )


async def sent_request(system: Scenario, request_id: str) -> list[tuple[Any, ...]]:
    """The datahub service's outbound request *request_id* once sent: (state, document)."""
    rows = await eventually(
        lambda: system.sql(
            "SELECT state, document_type FROM datahub.outbound_requests "
            "WHERE request_id = $1::uuid",
            request_id,
        ),
        lambda rows: bool(rows) and rows[0]["state"] == "sent",
        60,
    )
    return [tuple(r) for r in rows]


async def test_an_injected_rsm014_deviation_is_found_exactly_and_an_rsm016_request_clears_it(
    system: Scenario, tmp_path: Path
) -> None:
    # Given a go-live import, and reconciliation knowing which points are ours before
    # DataHub's day arrives
    await system.given_the_go_live_import(
        metering_points=12, seed=5, ours_share="0.5", customers=1, cwd=tmp_path
    )
    supplied = await eventually(
        lambda: system.sql("SELECT DISTINCT gsrn FROM reconciliation.supply_periods"),
        lambda rows: len(rows) > 0,
    )
    assert supplied, "reconciliation has no supply periods"

    # When DataHub's RSM-014 of one grid area (the first) is +1.000 kWh off in one hour
    await system.when_a_fault_is_injected(category="Aggregations", kind="aggregation_deviation")
    await system.when_a_day_passes()
    days = (await system.simulator("GET", "/sim/generated")).json()["days"]
    [generated] = [d for d in days if d["aggregates"]]
    day = date.fromisoformat(generated["local_date"])
    areas = sorted(a["grid_area"] for a in generated["aggregates"])
    [skewed] = [a for a in generated["aggregates"] if a["deviation"] is not None]
    assert D(skewed["deviation"]["kwh"]) == D("1.000")
    hour = skewed["deviation"]["position"] - 1  # the simulator counts positions from 1

    async def all_slices() -> list[dict[str, Any]]:
        page = await system.get("/api/reconciliation/results", params={"period": f"{day:%Y-%m}"})
        return [r for r in page["items"] if r["local_date"] == day.isoformat()]

    async def results() -> list[dict[str, Any]]:
        # DataHub's RSM-014 (the simulator's) is of flex consumption; a production point
        # of ours makes a slice DataHub sends no totals for (missing_datahub, no deviation).
        return [r for r in await all_slices() if (r["metering_point_type"],
                r["settlement_method"]) == ("E17", "D01")]  # fmt: skip

    def settled(items: list[dict[str, Any]]) -> bool:
        return sorted(r["grid_area"] for r in items) == areas and all(
            r["status"] in ("matched", "deviation") for r in items
        )

    # Then reconciliation finds exactly that grid area, day and hour
    items = await eventually(results, settled, 90)
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
    for r in await all_slices():
        if r not in items:
            assert (r["status"], r["hours_deviating"]) == ("missing_datahub", 0), r

    detail = (await system.call(
        "GET", f"/api/reconciliation/results/{skewed['grid_area']}/{day}")).json()  # fmt: skip
    flex = [h for h in detail["hours"] if h["metering_point_type"] == "E17"]
    assert len(flex) == len(generated_hours(generated))
    off = [h for h in flex if h["status"] != "matched"]
    assert [(h["position"], h["status"]) for h in off] == [(hour, "deviation")]
    [h] = off
    assert D(h["datahub_kwh"]) - D(h["ours_kwh"]) == D("1.000")
    assert D(h["deviation_kwh"]) == D("-1.000")

    # When we ask DataHub for that grid area's totals of the day again (RSM-016): the
    # datahub service sends it, the simulator answers with the true totals
    asked = await system.call(
        "POST",
        "/api/reconciliation/requests",
        json={"kind": "RSM-016", "grid_area": skewed["grid_area"],
              "start_date": day.isoformat(),
              "end_date": (day + timedelta(days=1)).isoformat()},
    )  # fmt: skip
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request_id"]
    assert await sent_request(system, request_id) == [("sent", "RequestAggregatedMeasureData")]
    # ... and reconciliation hears of it (datahub.request.sent).
    status = await eventually(
        lambda: system.get(f"/api/reconciliation/requests/{request_id}"),
        lambda r: r["status"] != "raised",
        30,
    )
    assert (status["status"], status["kind"], status["automatic"]) == ("sent", "RSM-016", False)

    async def skewed_area() -> dict[str, Any]:
        [r] = [r for r in await results() if r["grid_area"] == skewed["grid_area"]]
        return r

    # Then the day matches
    cleared = await eventually(skewed_area, lambda r: r["status"] == "matched", 60)
    assert cleared["status"] == "matched", cleared
    assert D(cleared["deviation_kwh"]) == 0
    assert {r["status"] for r in await results()} == {"matched"}

    # When we ask for a grid area's wholesale settlement of the month so far (RSM-017): sent
    # as a RequestWholesaleSettlement, then it is answered with an RSM-019 that wholesale
    # reconciliation takes in (DataHub sends none of its own before the month is over).
    wholesale = await system.call(
        "POST",
        "/api/reconciliation/requests",
        json={"kind": "RSM-017", "grid_area": skewed["grid_area"],
              "billing_period": f"{day:%Y-%m}"},
    )  # fmt: skip
    assert wholesale.status_code == 202, wholesale.text
    wholesale_id = wholesale.json()["request_id"]
    assert await sent_request(system, wholesale_id) == [("sent", "RequestWholesaleSettlement")]

    async def billed_by_datahub() -> list[dict[str, Any]]:
        page = await system.get("/api/reconciliation/wholesale", params={"period": f"{day:%Y-%m}"})
        return [r for r in page["items"] if r["datahub_dkk"] is not None]

    answered = await eventually(billed_by_datahub, bool, 60)
    assert answered and {r["grid_area"] for r in answered} == {skewed["grid_area"]}, answered
    done = (await system.call("GET", f"/api/reconciliation/requests/{wholesale_id}")).json()
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
