"""A signup whose supply ended says so, and a metering point we supply is not signed up again."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from wattline_portfolio.handlers import scheduler

if TYPE_CHECKING:
    from conftest import Rig


async def _views(rig: Rig, signup_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    status = await rig.client.get(f"/api/signup/{signup_id}/status")
    detail = await rig.client.get(f"/api/signups/{signup_id}")
    assert status.status_code == 200 and detail.status_code == 200
    return status.json(), detail.json()


async def _ended_as(rig: Rig, signup_id: str, reason: str, end: str) -> None:
    status, detail = await _views(rig, signup_id)
    for view in (status, detail):
        assert (view["status"], view["end_reason"], view["end_date"]) == ("ended", reason, end)
    listed = (await rig.client.get("/api/signups", params={"status": "ended"})).json()
    assert [(s["signup_id"], s["end_reason"], s["end_date"]) for s in listed["items"]] == [
        (signup_id, reason, end)
    ]
    active = (await rig.client.get("/api/signups", params={"status": "active"})).json()
    assert signup_id not in [s["signup_id"] for s in active["items"]]


async def _back_office(rig: Rig, kind: str, gsrn: str, effective_date: str) -> dict[str, Any]:
    response = await rig.client.post(
        "/api/processes", json={"kind": kind, "gsrn": gsrn, "effective_date": effective_date}
    )
    assert response.status_code == 201, response.text
    [request] = await rig.raise_and_send()
    await rig.answer(request["request_id"], gsrn)
    result: dict[str, Any] = response.json()
    return result


async def test_a_signup_switched_away_from_us_has_ended(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = await rig.activate(point)
    status, _ = await _views(rig, signup_id)
    assert (status["status"], status["end_reason"], status["end_date"]) == ("active", None, None)
    # Another supplier takes over from 15 April: our last day is 14 April.
    await rig.notification(point.gsrn, date(2025, 4, 15))
    await _ended_as(rig, signup_id, "switched_away", "2025-04-15")


async def test_a_signup_whose_customer_moved_out_has_ended(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = await rig.activate(point)
    rig.clock.set_today(date(2025, 4, 1))
    await _back_office(rig, "move_out", point.gsrn, "2025-05-15")
    await scheduler.complete_due(rig.p)
    assert (await _views(rig, signup_id))[0]["status"] == "active"  # not before the date
    rig.clock.set_today(date(2025, 5, 15))
    assert await scheduler.complete_due(rig.p) == 1
    await _ended_as(rig, signup_id, "move_out", "2025-05-15")


async def test_a_signup_whose_supply_we_ended_has_ended(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = await rig.activate(point)
    rig.clock.set_today(date(2025, 6, 2))
    await _back_office(rig, "end_of_supply", point.gsrn, "2025-07-01")
    rig.clock.set_today(date(2025, 7, 1))
    assert await scheduler.complete_due(rig.p) == 1
    await _ended_as(rig, signup_id, "end_of_supply", "2025-07-01")


async def test_a_switch_rolled_back_by_the_previous_supplier_ends_the_signup(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = await rig.activate(point)
    await rig.notification(point.gsrn, date(2025, 3, 24), process_type="D07")
    await _ended_as(rig, signup_id, "erroneous_switch", "2025-03-24")
    # The period was never ours: the customer may sign up again.
    again = await rig.client.post(
        "/api/signup", json=rig.signup_body(point, effective_date="2025-04-22")
    )
    assert again.status_code == 201, again.text


async def test_a_new_customer_of_ours_moving_in_ends_the_previous_customers_signup(
    rig: Rig,
) -> None:
    point = rig.single(0)
    first = await rig.activate(point, type="move_in", effective_date="2025-02-24")
    second = await rig.activate(
        point, type="move_in", effective_date="2025-02-28", cpr_cvr="0101901234"
    )
    await _ended_as(rig, first, "move_out", "2025-02-28")
    assert (await _views(rig, second))[0]["status"] == "active"


async def test_undoing_a_wrong_switch_away_makes_the_signup_active_again(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = await rig.activate(point)
    await rig.notification(point.gsrn, date(2025, 4, 15))
    await _ended_as(rig, signup_id, "switched_away", "2025-04-15")
    response = await rig.client.post(
        "/api/processes", json={"kind": "erroneous_switch", "gsrn": point.gsrn}
    )
    assert response.status_code == 201, response.text
    [request] = await rig.raise_and_send()
    await rig.answer(request["request_id"], point.gsrn)
    await rig.master_data(point, date(2025, 4, 15), process_type="D07")
    status, detail = await _views(rig, signup_id)
    for view in (status, detail):
        assert (view["status"], view["end_reason"], view["end_date"]) == ("active", None, None)


async def test_a_metering_point_we_supply_through_a_signup_is_not_signed_up_again(
    rig: Rig,
) -> None:
    point = rig.single(0)
    await rig.activate(point)  # supplied from 24 March 2025
    switch = await rig.client.post(
        "/api/signup", json=rig.signup_body(point, effective_date="2025-04-22")
    )
    assert switch.status_code == 409
    assert switch.headers["content-type"].startswith("application/problem+json")
    problem = switch.json()
    assert problem["type"].endswith("/already-supplied") and problem["gsrn"] == point.gsrn
    assert point.gsrn in problem["detail"] and "2025-03-24" in problem["detail"]
    moving_in = await rig.client.post(
        "/api/signup",
        json=rig.signup_body(point, type="move_in", effective_date="2025-03-04"),
    )
    assert moving_in.status_code == 409 and moving_in.json()["type"].endswith("/already-supplied")
    assert await rig.service.database.fetchval("SELECT count(*) FROM signup") == 1


async def test_a_signup_is_allowed_from_the_day_our_supply_ends(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    await rig.notification(point.gsrn, date(2025, 4, 15))  # ours until 14 April
    while_ours = await rig.client.post(
        "/api/signup", json=rig.signup_body(point, effective_date="2025-04-14")
    )
    assert while_ours.status_code == 409, while_ours.text
    assert "until 2025-04-15" in while_ours.json()["detail"]
    from_the_end = await rig.client.post(
        "/api/signup", json=rig.signup_body(point, effective_date="2025-04-15")
    )
    assert from_the_end.status_code == 201, from_the_end.text
