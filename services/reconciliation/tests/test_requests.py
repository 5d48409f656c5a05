"""Asking DataHub for what is missing: a request is recorded and its event written for the
datahub service; one DataHub would refuse is a 422 problem, bad input a 400."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any


async def test_a_request_for_a_grid_areas_totals_becomes_an_event_for_the_datahub_service(
    rig: Any,
) -> None:
    response = await rig.client.post(
        "/api/reconciliation/requests",
        json={"kind": "RSM-016", "grid_area": "344", "metering_point_type": "E17",
              "start_date": "2026-01-15", "end_date": "2026-01-17"},
    )  # fmt: skip
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["kind"], body["grid_area"], body["gsrn"]) == ("RSM-016", "344", None)
    assert body["period_start"].startswith("2026-01-15T00:00:00+01:00")
    [event] = await rig.events("reconciliation.data_request.raised")
    assert event["request_id"] == body["request_id"]
    assert (event["kind"], event["grid_area"], event["metering_point_type"]) == (
        "RSM-016",
        "344",
        "E17",
    )
    assert (event["period_start"][:19], event["period_end"][:19]) == (
        "2026-01-15T00:00:00",
        "2026-01-17T00:00:00",
    )
    stored = await rig.rec.service.database.fetchval("SELECT count(*) FROM data_requests")
    assert stored == 1

    metering = await rig.client.post(
        "/api/reconciliation/requests",
        json={"kind": "RSM-015", "gsrn": "571313100000000001", "start_date": "2026-01-15",
              "end_date": "2026-01-16"},
    )  # fmt: skip
    assert metering.status_code == 202, metering.text
    assert len(await rig.events("reconciliation.data_request.raised")) == 2


async def test_a_request_for_a_grid_areas_wholesale_settlement_asks_for_its_whole_month(
    rig: Any,
) -> None:
    response = await rig.client.post(
        "/api/reconciliation/requests",
        json={"kind": "RSM-017", "grid_area": "344", "billing_period": "2026-03"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["kind"], body["grid_area"], body["gsrn"]) == ("RSM-017", "344", None)
    # March in Danish local days: winter time at its start, summer time at its end.
    assert body["period_start"].startswith("2026-03-01T00:00:00+01:00")
    assert body["period_end"].startswith("2026-04-01T00:00:00+02:00")
    [event] = await rig.events("reconciliation.data_request.raised")
    assert (event["request_id"], event["kind"], event["grid_area"]) == (
        body["request_id"],
        "RSM-017",
        "344",
    )
    stored = await rig.rec.service.database.fetchrow(
        "SELECT kind, grid_area, start_date, end_date FROM data_requests"
    )
    assert tuple(stored) == ("RSM-017", "344", date(2026, 3, 1), date(2026, 4, 1))


def days(start: str, end: str) -> dict[str, str]:
    return {"start_date": start, "end_date": end}


async def test_requests_datahub_would_refuse_are_problems(rig: Any) -> None:
    refused = [
        {"kind": "RSM-016", "grid_area": "344", **days("2026-01-17", "2026-01-15")},
        {"kind": "RSM-016", "grid_area": "344", **days("2026-01-01", "2026-03-01")},
        {"kind": "RSM-016", **days("2026-01-15", "2026-01-16")},
        {"kind": "RSM-015", "grid_area": "344", **days("2026-01-15", "2026-01-16")},
        {"kind": "RSM-016", "grid_area": "344", "billing_period": "2026-01"},
        {"kind": "RSM-017", "grid_area": "344", **days("2026-01-01", "2026-02-01")},
        {"kind": "RSM-017", "billing_period": "2026-01"},
        {"kind": "RSM-017", "gsrn": "571313100000000001", "billing_period": "2026-01"},
    ]  # fmt: skip
    for body in refused:
        response = await rig.client.post("/api/reconciliation/requests", json=body)
        assert response.status_code == 422, body
        assert response.json()["type"].endswith("invalid-request")
    invalid = [
        {"kind": "RSM-018", "grid_area": "344", **days("2026-01-15", "2026-01-16")},
        {"kind": "RSM-017", "grid_area": "344", "billing_period": "2026-13"},
        {"kind": "RSM-016", "grid_area": "3440", **days("2026-01-15", "2026-01-16")},
        {"kind": "RSM-016", "grid_area": "344", **days("1900-01-15", "2026-01-16")},
    ]  # fmt: skip
    for body in invalid:
        response = await rig.client.post("/api/reconciliation/requests", json=body)
        assert response.status_code == 400, body
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await rig.events("reconciliation.data_request.raised") == []


async def test_the_job_asks_once_for_each_gap_it_finds(rig: Any) -> None:
    rig.rec.settings.request_missing_after_s = 0  # at once (the waiting: the next test)
    a, b = "571313100000000001", "571313100000000002"
    day, next_day = date(2026, 1, 15), date(2026, 1, 16)
    await rig.supplied(a, start=date(2026, 1, 1))
    await rig.supplied(b, start=date(2026, 1, 1))
    await rig.metered(a, day, ["1.000"] * 24)
    await rig.metered(b, day, ["0.500"] * 23 + [None])  # B's last hour has not arrived
    await rig.metered(a, next_day, ["1.000"] * 24)  # DataHub sends nothing for the 16th
    await rig.aggregated(day, ["1.500"] * 24)
    await rig.reconcile()

    asked = await rig.events("reconciliation.data_request.raised")
    assert sorted(
        (e["kind"], e["grid_area"], e["gsrn"], e["metering_point_type"], e["period_start"][:10])
        for e in asked
    ) == [
        ("RSM-015", None, b, None, "2026-01-15"),
        ("RSM-016", "344", None, "E17", "2026-01-16"),
    ]

    # The same gaps found again (A's data arriving once more) are not asked about again.
    await rig.metered(a, day, ["1.000"] * 24)
    await rig.metered(a, next_day, ["1.000"] * 24)
    assert await rig.reconcile() == 2  # both days reconciled again
    assert len(await rig.events("reconciliation.data_request.raised")) == 2


async def test_what_became_of_a_request_is_kept_with_it(rig: Any) -> None:
    from wattline_contracts.datahub import (
        DataRequestRejectedV1,
        Reason,
        RequestFailedV1,
        RequestSentV1,
    )
    from wattline_contracts.portfolio import transaction_id_for

    async def ask(grid_area: str) -> str:
        response = await rig.client.post(
            "/api/reconciliation/requests",
            json={"kind": "RSM-016", "grid_area": grid_area, **days("2026-01-15", "2026-01-16")},
        )
        assert response.status_code == 202, response.text
        return str(response.json()["request_id"])

    async def status(request_id: str) -> tuple[str, str | None]:
        response = await rig.client.get(f"/api/reconciliation/requests/{request_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        return body["status"], body["reason"]

    sent, failed, rejected = await ask("344"), await ask("131"), await ask("740")
    assert await status(sent) == ("raised", None)

    def sent_event(request_id: str) -> RequestSentV1:
        return RequestSentV1(request_id=request_id, kind="RSM-016",
                             transaction_id=transaction_id_for(request_id),
                             sent_at=datetime(2026, 1, 17, 9, tzinfo=UTC))  # fmt: skip

    await rig.deliver(sent_event(sent))
    await rig.deliver(sent_event(sent))  # again: nothing changes
    assert await status(sent) == ("sent", None)

    await rig.deliver(RequestFailedV1(request_id=failed, kind="RSM-016", reason="400 bad"))
    assert await status(failed) == ("failed", "400 bad")

    # DataHub's rejection names our transaction id; it may overtake datahub.request.sent,
    # which then does not reopen the request.
    await rig.deliver(
        DataRequestRejectedV1(
            datahub_message_id="m-1", request_kind="RSM-016", transaction_id="t-1",
            original_transaction_id=transaction_id_for(rejected),
            reasons=[Reason(code="E86", text="no data for the period")],
        )
    )  # fmt: skip
    await rig.deliver(sent_event(rejected))
    assert await status(rejected) == ("rejected", "E86: no data for the period")

    # The portfolio's requests share the topics: theirs are skipped.
    await rig.deliver(sent_event("not-a-uuid"))
    await rig.deliver(sent_event("3f1d1c9e-0000-4000-8000-000000000000"))
    assert (await rig.client.get("/api/reconciliation/requests/not-a-uuid")).status_code == 404
    unknown = await rig.client.get(
        "/api/reconciliation/requests/3f1d1c9e-0000-4000-8000-000000000000"
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_a_gap_is_asked_about_only_once_it_has_stood_for_a_while(rig: Any) -> None:
    rig.rec.settings.request_missing_after_s = 3600
    a = "571313100000000001"
    day = date(2026, 1, 15)
    await rig.supplied(a, start=date(2026, 1, 1))
    await rig.metered(a, day, ["1.000"] * 24)  # DataHub's totals are on their way
    assert await rig.reconcile() == 1
    assert await rig.events("reconciliation.data_request.raised") == []
    db = rig.rec.service.database
    deferred = await db.fetchval(
        "SELECT not_before - now() FROM pending_days WHERE local_date = $1", day
    )
    assert timedelta(minutes=59) < deferred <= timedelta(hours=1)
    assert await rig.reconcile() == 0  # not due yet

    # New data makes the day due at once (reconciled, still not asked about) ...
    await rig.metered(a, day, ["1.000"] * 24)
    assert await rig.reconcile() == 1
    assert await rig.events("reconciliation.data_request.raised") == []

    # ... and an hour after the gap was first seen, DataHub is asked.
    await db.execute("UPDATE gaps_seen SET first_seen_at = first_seen_at - interval '1 hour'")
    await db.execute("UPDATE pending_days SET not_before = now()")
    assert await rig.reconcile() == 1
    [asked] = await rig.events("reconciliation.data_request.raised")
    assert (asked["kind"], asked["grid_area"], asked["period_start"][:10]) == (
        "RSM-016",
        "344",
        "2026-01-15",
    )

    # DataHub's totals arrive: no gap any more, nothing waits.
    await rig.aggregated(day, ["1.000"] * 24)
    assert await rig.reconcile() == 1
    assert await db.fetchval("SELECT count(*) FROM gaps_seen") == 0
    assert await db.fetchval("SELECT count(*) FROM pending_days") == 0
