"""Energy reconciliation, in the business's words: given the points we supply in a grid area
and their metering data, when DataHub's RSM-014 totals arrive, then each hour is matched or
reported with its deviation, and what is missing on either side is named."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from typing import Any

A = "571313100000000001"  # hourly, 1.250 kWh every hour
B = "571313100000000002"  # quarterly, 0.100 kWh every quarter
GONE = "571313100000000003"  # ours until 10 January only
ELSEWHERE = "571313100000000004"  # ours, in grid area 740
DAY = date(2026, 1, 15)
NEXT = date(2026, 1, 16)


async def given_two_points_of_ours_in_344(rig: Any) -> None:
    await rig.supplied(A, start=date(2026, 1, 1))
    await rig.supplied(B, start=date(2026, 1, 1), resolution="PT15M")
    await rig.supplied(GONE, start=date(2025, 12, 1), end=date(2026, 1, 10))
    await rig.supplied(ELSEWHERE, grid_area="740", start=date(2026, 1, 1))
    await rig.metered(A, DAY, ["1.250"] * 24)
    quarters: list[str | None] = ["0.100"] * 96
    quarters[20 * 4 + 2] = None  # B's 20:30 quarter has not arrived
    await rig.metered(B, DAY, quarters, resolution="PT15M")
    await rig.metered(GONE, DAY, ["5.000"] * 24)  # not ours that day: not in our sum
    await rig.metered(ELSEWHERE, DAY, ["9.000"] * 24)  # another grid area
    await rig.metered(A, NEXT, ["1.000"] * 24)  # DataHub sends nothing for the 16th


def datahub_totals(hour_17: str = "1.950") -> list[str | None]:
    totals: list[str | None] = ["1.650"] * 24
    totals[17] = hour_17  # 0.300 kWh more than our two points metered
    return totals


async def test_an_injected_deviation_is_reported_with_its_size_and_the_rest_matched(
    rig: Any,
) -> None:
    await given_two_points_of_ours_in_344(rig)
    await rig.aggregated(DAY, datahub_totals())
    assert await rig.reconcile() == 3  # 344 on the 15th and 16th, 740 on the 15th

    detail = (await rig.client.get(f"/api/reconciliation/results/344/{DAY}")).json()
    [day] = detail["slices"]
    assert day["status"] == "deviation"
    assert (day["hours_matched"], day["hours_deviating"], day["hours_missing_ours"]) == (22, 1, 1)
    assert Decimal(day["datahub_kwh"]) == Decimal("39.900")  # 23 x 1.650 + 1.950
    assert Decimal(day["ours_kwh"]) == Decimal("39.200")  # 23 x 1.650 + A's 1.250 at 20
    assert Decimal(day["deviation_kwh"]) == Decimal("-0.300")
    by_position = {h["position"]: h for h in detail["hours"]}
    assert len(by_position) == 24
    hour_17 = by_position[17]
    assert hour_17["status"] == "deviation"
    assert hour_17["hour_start"].startswith("2026-01-15T16:00:00")  # 17:00 Danish time
    assert (Decimal(hour_17["datahub_kwh"]), Decimal(hour_17["ours_kwh"])) == (
        Decimal("1.950"),
        Decimal("1.650"),
    )
    assert Decimal(hour_17["deviation_kwh"]) == Decimal("-0.300")
    assert Decimal(hour_17["deviation_percent"]) == Decimal("-15.38")  # -0.300 / 1.950
    hour_20 = by_position[20]
    assert (hour_20["status"], hour_20["points"], hour_20["points_missing"]) == (
        "missing_ours",
        2,
        1,
    )
    assert {h["status"] for p, h in by_position.items() if p not in (17, 20)} == {"matched"}

    # The 16th: our data, nothing from DataHub.
    [next_day] = (await rig.client.get(f"/api/reconciliation/results/344/{NEXT}")).json()["slices"]
    assert (next_day["status"], next_day["hours_missing_datahub"]) == ("missing_datahub", 24)
    assert Decimal(next_day["ours_kwh"]) == Decimal("24.000")

    [event] = await rig.events("reconciliation.deviation.detected")
    assert (event["grid_area"], event["local_date"], event["metering_point_type"]) == (
        "344",
        "2026-01-15",
        "E17",
    )
    assert event["settlement_method"] == "D01"
    [hour] = event["hours"]
    assert (Decimal(hour["deviation_kwh"]), Decimal(hour["deviation_percent"])) == (
        Decimal("-0.300"),
        Decimal("-15.38"),
    )

    metrics = (await rig.client.get("/metrics")).text
    assert 'wattline_reconciliation_deviation_hours{grid_area="344"} 1.0' in metrics
    assert 'wattline_reconciliation_deviation_kwh{grid_area="344"} 0.3' in metrics
    assert 'wattline_reconciliation_missing_hours{grid_area="344",side="datahub"} 24.0' in metrics


async def test_the_drill_down_shows_the_points_that_make_up_our_side(rig: Any) -> None:
    await given_two_points_of_ours_in_344(rig)
    await rig.aggregated(DAY, datahub_totals())
    await rig.reconcile()

    hour = (await rig.client.get(f"/api/reconciliation/results/344/{DAY}/hours/17")).json()
    assert [(p["gsrn"], p["kwh"]) for p in hour["points"]] == [(A, "1.250"), (B, "0.400")]
    assert Decimal(hour["ours_kwh"]) == Decimal("1.650")
    incomplete = (await rig.client.get(f"/api/reconciliation/results/344/{DAY}/hours/20")).json()
    assert [(p["gsrn"], p["kwh"]) for p in incomplete["points"]] == [(A, "1.250"), (B, None)]

    for path in (f"344/{DAY}/hours/24", "344/2026-02-30", "34x/2026-01-15", f"345/{DAY}"):
        response = await rig.client.get(f"/api/reconciliation/results/{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_newer_version_replaces_the_older_and_an_older_one_does_not(rig: Any) -> None:
    await given_two_points_of_ours_in_344(rig)
    await rig.aggregated(DAY, datahub_totals())
    await rig.reconcile()

    # DataHub's correction settlement agrees with us for 17:00.
    await rig.aggregated(DAY, datahub_totals("1.650"), process_type="D32", version="D01")
    await rig.reconcile()
    [day] = (await rig.client.get(f"/api/reconciliation/results/344/{DAY}")).json()["slices"]
    assert (day["status"], day["hours_deviating"], day["hours_matched"]) == ("missing_ours", 0, 23)

    # A late balance fixing (ranked lower) changes nothing; nor does our data arriving again.
    await rig.aggregated(DAY, datahub_totals("2.950"), process_type="D04")
    await rig.metered(A, DAY, ["1.250"] * 24)
    await rig.reconcile()
    [day] = (await rig.client.get(f"/api/reconciliation/results/344/{DAY}")).json()["slices"]
    assert (day["status"], day["hours_deviating"]) == ("missing_ours", 0)
    assert len(await rig.events("reconciliation.deviation.detected")) == 1  # the first only


async def test_a_correction_of_some_hours_keeps_the_other_hours(rig: Any) -> None:
    await given_two_points_of_ours_in_344(rig)
    await rig.aggregated(DAY, datahub_totals("1.650"))
    await rig.reconcile()
    # A's correction of 08:00-12:00 (local) only: 1.750 kWh, and 10:00 sent as missing (A02);
    # the other 20 hours were not sent (neither value nor quality) and keep 1.250 kWh.
    kwh: list[str | None] = [None] * 24
    qualities: list[str | None] = [None] * 24
    for hour in (8, 9, 11):
        kwh[hour], qualities[hour] = "1.750", "A04"
    qualities[10] = "A02"
    await rig.metered(A, DAY, kwh, qualities=qualities)
    await rig.reconcile()

    detail = (await rig.client.get(f"/api/reconciliation/results/344/{DAY}")).json()
    by_position = {h["position"]: h for h in detail["hours"]}
    for hour in (8, 9, 11):
        assert (by_position[hour]["status"], Decimal(by_position[hour]["ours_kwh"])) == (
            "deviation",
            Decimal("2.150"),  # A's 1.750 + B's 0.400
        )
        assert Decimal(by_position[hour]["deviation_kwh"]) == Decimal("0.500")
    assert by_position[10]["status"] == "missing_ours"
    assert {by_position[h]["status"] for h in range(24) if h not in (8, 9, 10, 11, 20)} == {
        "matched"
    }
    [day] = detail["slices"]
    # 19 x 1.650 + 3 x 2.150, and the two incomplete hours: B's 0.400 at 10, A's 1.250 at 20
    assert Decimal(day["ours_kwh"]) == Decimal("39.450")


async def test_a_deviation_within_the_tolerance_is_matched(rig: Any) -> None:
    rig.rec.settings.tolerance_kwh = Decimal("0.500")
    await given_two_points_of_ours_in_344(rig)
    await rig.aggregated(DAY, datahub_totals())
    await rig.reconcile()
    [day] = (await rig.client.get(f"/api/reconciliation/results/344/{DAY}")).json()["slices"]
    assert (day["status"], day["hours_deviating"], day["hours_matched"]) == ("missing_ours", 0, 23)
    assert await rig.events("reconciliation.deviation.detected") == []


async def test_results_are_listed_by_period_grid_area_and_status_a_page_at_a_time(
    rig: Any,
) -> None:
    await given_two_points_of_ours_in_344(rig)
    await rig.aggregated(DAY, datahub_totals())
    await rig.reconcile()

    async def listed(**params: str | int) -> dict:  # type: ignore[type-arg]
        response = await rig.client.get("/api/reconciliation/results", params=params)
        assert response.status_code == 200, response.text
        body: dict = response.json()  # type: ignore[type-arg]
        return body

    everything = await listed(period="2026-01")
    assert [(r["grid_area"], r["local_date"], r["status"]) for r in everything["items"]] == [
        ("344", "2026-01-15", "deviation"),
        ("740", "2026-01-15", "missing_datahub"),
        ("344", "2026-01-16", "missing_datahub"),
    ]
    assert everything["next"] is None
    assert [
        r["local_date"] for r in (await listed(grid_area="344", status="deviation"))["items"]
    ] == ["2026-01-15"]
    assert (await listed(period="2026-02"))["items"] == []

    first = await listed(limit=2)
    second = await listed(limit=2, after=first["next"])
    assert [r["grid_area"] for r in first["items"] + second["items"]] == ["344", "740", "344"]
    assert second["next"] is None

    nul = base64.urlsafe_b64encode(b"2026-01-15|\x00|E17|D01").decode()
    for params in ({"after": "bm90LW91cnM"}, {"after": nul}, {"grid_area": "34"},
                   {"period": "2026-13"}, {"status": "fine"}, {"limit": 0}):  # fmt: skip
        response = await rig.client.get("/api/reconciliation/results", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")
