"""Scenarios after activation: moves, other suppliers, corrections, product changes."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from wattline_portfolio.handlers import scheduler

if TYPE_CHECKING:
    from conftest import Rig


async def _period(rig: Rig, gsrn: str) -> tuple[date, date | None, str]:
    row = await rig.service.database.fetchrow(
        "SELECT * FROM supply_period WHERE gsrn = $1 ORDER BY created_at DESC LIMIT 1", gsrn
    )
    assert row is not None
    return row["start_date"], row["end_date"], row["status"]


async def _process(rig: Rig, body: dict[str, str]) -> dict[str, str]:
    response = await rig.client.post("/api/processes", json=body)
    assert response.status_code == 201, response.text
    process: dict[str, str] = response.json()
    return process


async def test_a_move_in_effective_three_business_days_back(rig: Rig) -> None:
    point = rig.single(0)
    # Today is Monday 3 March 2025: three business days back is Wednesday 26 February.
    signup_id = await rig.activate(point, type="move_in", effective_date="2025-02-26")
    assert await _period(rig, point.gsrn) == (date(2025, 2, 26), None, "active")
    raised = await rig.events("portfolio.datahub_request.raised")
    assert (raised[0]["kind"], raised[0]["effective_date"]) == ("BRS-009", "2025-02-26")
    [activated] = await rig.events("portfolio.customer.activated")
    assert activated["signup_id"] == signup_id and activated["effective_date"] == "2025-02-26"
    six_back = await rig.client.post(
        "/api/signup",
        json=rig.signup_body(rig.single(1), type="move_in", effective_date="2025-02-21"),
    )
    assert six_back.status_code == 400


async def test_another_supplier_taking_over_mid_month_ends_our_supply_on_the_local_date(
    rig: Rig,
) -> None:
    point = rig.single(0)
    await rig.activate(point)
    # DataHub says the other supplier starts at 2025-04-14T22:00Z: Danish midnight, 15 April
    # (summer time). Our supply covers up to and including 14 April.
    await rig.notification(point.gsrn, date(2025, 4, 15))
    assert await _period(rig, point.gsrn) == (date(2025, 3, 24), date(2025, 4, 15), "ended")
    ended = (await rig.events("portfolio.supply_period.changed"))[-1]
    assert (ended["end_date"], ended["reason"]) == ("2025-04-15", "ended")
    [offboarded] = await rig.events("portfolio.customer.offboarded")
    assert (offboarded["end_date"], offboarded["reason"]) == ("2025-04-15", "switched_away")
    [contract] = [e for e in await rig.events("portfolio.contract.changed") if e["end_date"]]
    assert contract["end_date"] == "2025-04-15"
    # The same notice again changes nothing.
    await rig.notification(point.gsrn, date(2025, 4, 15))
    assert len(await rig.events("portfolio.customer.offboarded")) == 1


async def test_a_move_out_in_the_middle_of_a_quarter(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    rig.clock.set_today(date(2025, 4, 1))
    process = await _process(
        rig, {"kind": "move_out", "gsrn": point.gsrn, "effective_date": "2025-05-15"}
    )
    assert (process["kind"], process["status"]) == ("BRS-010", "pending")
    [request] = await rig.raise_and_send()
    assert (request["kind"], request["effective_date"]) == ("BRS-010", "2025-05-15")
    assert request["customer_id_sealed"] is None  # ending our own supply names nobody
    await rig.answer(request["request_id"], point.gsrn)
    await scheduler.complete_due(rig.p)
    assert await _period(rig, point.gsrn) == (date(2025, 3, 24), None, "active")

    rig.clock.set_today(date(2025, 5, 15))
    assert await scheduler.complete_due(rig.p) == 1
    assert await _period(rig, point.gsrn) == (date(2025, 3, 24), date(2025, 5, 15), "ended")
    [offboarded] = await rig.events("portfolio.customer.offboarded")
    assert (offboarded["end_date"], offboarded["reason"]) == ("2025-05-15", "move_out")
    detail = (await rig.client.get(f"/api/processes/{process['process_id']}")).json()
    assert detail["status"] == "completed"
    assert [e["status"] for e in detail["events"]][-1] == "completed"
    assert await scheduler.complete_due(rig.p) == 0


async def test_back_office_processes_are_refused_clearly(rig: Rig) -> None:
    point = rig.single(0)
    body = {"kind": "move_out", "gsrn": point.gsrn, "effective_date": "2025-05-15"}
    not_ours = await rig.client.post("/api/processes", json=body)
    assert not_ours.status_code == 409 and not_ours.json()["type"].endswith("/not-supplied")
    await rig.activate(point)
    too_early = await rig.client.post(
        "/api/processes", json={**body, "effective_date": "2025-03-20"}
    )
    assert too_early.status_code == 400
    await _process(rig, body)
    busy = await rig.client.post("/api/processes", json={**body, "kind": "end_of_supply"})
    assert busy.status_code == 409 and busy.json()["type"].endswith("/open-process")
    signup = await rig.client.post("/api/signup", json=rig.signup_body(point))
    assert signup.status_code == 409


async def test_erroneous_move_moves_the_start_of_supply(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point, type="move_in", effective_date="2025-02-27")
    process = await _process(
        rig, {"kind": "erroneous_move", "gsrn": point.gsrn, "effective_date": "2025-02-25"}
    )
    [request] = await rig.raise_and_send()
    assert (request["kind"], request["effective_date"]) == ("BRS-011", "2025-02-25")
    await rig.answer(request["request_id"], point.gsrn)
    await rig.master_data(point, date(2025, 2, 25), process_type="D33")
    assert await _period(rig, point.gsrn) == (date(2025, 2, 25), None, "active")
    corrected = (await rig.events("portfolio.supply_period.changed"))[-1]
    assert (corrected["start_date"], corrected["reason"]) == ("2025-02-25", "start_corrected")
    assert corrected["process_id"] == process["process_id"]
    contract = (await rig.events("portfolio.contract.changed"))[-1]
    assert contract["start_date"] == "2025-02-25"


async def test_a_switch_to_us_rolled_back_by_the_previous_supplier(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    await rig.notification(point.gsrn, date(2025, 3, 24), process_type="D07")
    assert await _period(rig, point.gsrn) == (date(2025, 3, 24), date(2025, 3, 24), "rolled_back")
    rolled = (await rig.events("portfolio.supply_period.changed"))[-1]
    assert rolled["reason"] == "rolled_back"
    [offboarded] = await rig.events("portfolio.customer.offboarded")
    assert offboarded["reason"] == "erroneous_switch"


async def test_we_undo_a_wrong_switch_away_from_us(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    await rig.notification(point.gsrn, date(2025, 4, 15))
    process = await _process(rig, {"kind": "erroneous_switch", "gsrn": point.gsrn})
    assert (process["kind"], process["effective_date"]) == ("BRS-003", "2025-04-15")
    [request] = await rig.raise_and_send()
    await rig.answer(request["request_id"], point.gsrn)
    await rig.master_data(point, date(2025, 4, 15), process_type="D07")
    assert await _period(rig, point.gsrn) == (date(2025, 3, 24), None, "active")
    reopened = (await rig.events("portfolio.supply_period.changed"))[-1]
    assert (reopened["reason"], reopened["end_date"]) == ("reopened", None)
    contract = (await rig.events("portfolio.contract.changed"))[-1]
    assert contract["end_date"] is None
    again = await rig.client.post(
        "/api/processes", json={"kind": "erroneous_switch", "gsrn": point.gsrn}
    )
    assert again.status_code == 409


async def test_a_contract_keeps_its_version_until_changed(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = await rig.activate(point)
    products = (await rig.client.get("/api/products")).json()
    spot, green = products[0], products[1]
    await rig.client.post(
        f"/api/products/{spot['product_id']}/versions",
        json={
            "valid_from": "2025-04-01",
            "margin_dkk_per_kwh": "0.07",
            "subscription_dkk_per_month": "45",
        },
    )
    detail = (await rig.client.get(f"/api/signups/{signup_id}")).json()
    customer = (await rig.client.get(f"/api/customers/{detail['customer']['id']}")).json()
    [contract] = customer["contracts"]
    assert (contract["product_version"], contract["end_date"]) == (1, None)  # still v1

    changed = await rig.client.post(
        f"/api/contracts/{contract['contract_id']}/product-change",
        json={"product_id": green["product_id"], "from_date": "2025-05-01"},
    )
    assert changed.status_code == 201, changed.text
    customer = (await rig.client.get(f"/api/customers/{detail['customer']['id']}")).json()
    assert [(c["product_name"], c["start_date"], c["end_date"]) for c in customer["contracts"]] == [
        ("Spot", "2025-03-24", "2025-05-01"),
        ("Spot Grøn", "2025-05-01", None),
    ]
    events = (await rig.events("portfolio.contract.changed"))[-2:]
    assert [(e["product_id"], e["end_date"]) for e in events] == [
        (spot["product_id"], "2025-05-01"),
        (green["product_id"], None),
    ]


async def test_correcting_a_move_in_moves_the_previous_customers_move_out(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point, type="move_in", effective_date="2025-02-24")
    # A new customer of ours moves in on the 28th; the move-in was really on the 27th.
    response = await rig.client.post(
        "/api/signup",
        json=rig.signup_body(
            point, type="move_in", effective_date="2025-02-28", cpr_cvr="0101901234"
        ),
    )
    assert response.status_code == 201, response.text
    process = await rig.process_of(response.json()["signup_id"])
    await rig.raise_and_send()
    await rig.answer(process["request_id"], point.gsrn)
    await rig.master_data(point, date(2025, 2, 28), process_type="E65")
    await _process(
        rig, {"kind": "erroneous_move", "gsrn": point.gsrn, "effective_date": "2025-02-27"}
    )
    [request] = [r for r in await rig.raise_and_send() if r["kind"] == "BRS-011"]
    await rig.answer(request["request_id"], point.gsrn)
    await rig.master_data(point, date(2025, 2, 27), process_type="D33")
    rows = await rig.service.database.fetch(
        "SELECT start_date, end_date, status FROM supply_period WHERE gsrn = $1 "
        "ORDER BY start_date",
        point.gsrn,
    )
    assert [tuple(r) for r in rows] == [
        (date(2025, 2, 24), date(2025, 2, 27), "ended"),
        (date(2025, 2, 27), None, "active"),
    ]


async def test_only_our_move_in_can_be_corrected(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)  # a switch
    response = await rig.client.post(
        "/api/processes",
        json={"kind": "erroneous_move", "gsrn": point.gsrn, "effective_date": "2025-03-04"},
    )
    assert response.status_code == 409 and response.json()["type"].endswith("/not-a-move-in")


async def test_a_late_notice_dated_before_our_start_changes_nothing(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    await rig.notification(point.gsrn, date(2025, 3, 20))
    assert await _period(rig, point.gsrn) == (date(2025, 3, 24), None, "active")
    assert await rig.events("portfolio.customer.offboarded") == []
