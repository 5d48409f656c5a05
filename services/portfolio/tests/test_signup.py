"""Signing up through the API and the process that follows (seed 000 B1's integration tests)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from typing import TYPE_CHECKING

from wattline_platform.business_days import business_days_ahead
from wattline_portfolio.handlers import scheduler

if TYPE_CHECKING:
    from conftest import Rig


async def test_products_show_our_prices_and_versions_from_a_date(rig: Rig) -> None:
    listed = (await rig.client.get("/api/products")).json()
    assert [p["name"] for p in listed] == ["Spot", "Spot Grøn", "Fastpris"]
    spot = listed[0]
    assert (spot["price_type"], spot["margin_dkk_per_kwh"], spot["subscription_dkk_per_month"]) == (
        "spot",
        "0.040000",
        "39.000000",
    )
    assert not [k for product in listed for k in product if "binding" in k]
    assert listed[2]["fixed_price_dkk_per_kwh"] == "1.100000"

    change = await rig.client.post(
        f"/api/products/{spot['product_id']}/versions",
        json={
            "valid_from": "2025-04-01",
            "margin_dkk_per_kwh": "0.05",
            "subscription_dkk_per_month": "39",
        },
    )
    assert change.status_code == 201, change.text
    assert change.json()["version"] == 2
    still = (await rig.client.get("/api/products")).json()[0]
    assert still["version"] == 1 and still["next_version"]["margin_dkk_per_kwh"] == "0.050000"
    retro = await rig.client.post(
        f"/api/products/{spot['product_id']}/versions",
        json={
            "valid_from": "2025-03-01",
            "margin_dkk_per_kwh": "0",
            "subscription_dkk_per_month": "0",
        },
    )
    assert retro.status_code == 400 and retro.headers["content-type"].startswith(
        "application/problem+json"
    )
    published = await rig.events("portfolio.product.version_published")
    assert [(e["name"], e["version"], e["margin_dkk_per_kwh"]) for e in published][-1] == (
        "Spot",
        2,
        "0.05",
    )
    # A signup before the change effective after it signs the version in force on its date.
    point = rig.single(0)
    signed = await rig.client.post(
        "/api/signup", json=rig.signup_body(point, effective_date="2025-04-02")
    )
    row = await rig.service.database.fetchrow(
        "SELECT product_version FROM signup WHERE signup_id = $1", signed.json()["signup_id"]
    )
    assert row is not None and row["product_version"] == 2


async def test_dar_id_resolves_to_the_gsrn(rig: Rig) -> None:
    point = rig.single(0)
    found = (await rig.client.get(f"/api/address/{point.dar_id}")).json()
    assert found["gsrns"] == [point.gsrn]
    assert found["metering_points"] == [
        {"gsrn": point.gsrn, "supplied_by_us": False, "open_process": None}
    ]
    unknown = await rig.client.get(f"/api/address/{uuid.uuid4()}")
    assert unknown.status_code == 404


async def test_an_address_with_several_metering_points_is_refused_naming_them(rig: Rig) -> None:
    dar, gsrns = rig.shared_address()
    point = next(p for p in rig.points if p.dar_id == dar)
    response = await rig.client.post("/api/signup", json=rig.signup_body(point))
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/several-metering-points")
    assert problem["gsrns"] == gsrns and all(g in problem["detail"] for g in gsrns)
    # Back office picks one: then it goes through.
    chosen = await rig.client.post("/api/signup", json=rig.signup_body(point, gsrn=gsrns[0]))
    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["gsrn"] == gsrns[0]
    wrong = await rig.client.post(
        "/api/signup", json=rig.signup_body(point, gsrn=rig.single(3).gsrn)
    )
    assert wrong.status_code == 400


async def test_a_signup_creates_customer_signup_and_process_but_no_portfolio_yet(
    rig: Rig,
) -> None:
    point = rig.single(0)
    response = await rig.client.post("/api/signup", json=rig.signup_body(point))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["signup_id"].startswith("SGN-2025-")
    assert body == {
        "signup_id": body["signup_id"],
        "status": "registered",
        "gsrn": point.gsrn,
        "effective_date": "2025-03-24",
    }
    db = rig.service.database
    assert await db.fetchval("SELECT count(*) FROM party WHERE role = 'customer'") == 1
    process = await rig.process_of(body["signup_id"])
    assert (process["kind"], process["status"], process["gsrn"]) == (
        "BRS-001",
        "pending",
        point.gsrn,
    )
    for table in ("metering_points", "supply_period", "contract"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    # The CPR is stored sealed and masked only.
    party = await db.fetchrow("SELECT * FROM party")
    assert party is not None
    cpr = rig.cpr_of(point)
    assert cpr not in json.dumps(dict(party), default=str)
    assert party["cpr_cvr_masked"] == cpr[:6] + "****"
    assert json.loads(rig.cipher.open(party["sealed"]))["cpr_cvr"] == cpr


async def test_the_scheduler_sends_brs001_for_a_switch_and_brs009_for_a_move_in(
    rig: Rig,
) -> None:
    switch = await rig.client.post("/api/signup", json=rig.signup_body(rig.single(0)))
    move_in = await rig.client.post(
        "/api/signup",
        json=rig.signup_body(rig.single(1), type="move_in", effective_date="2025-02-26"),
    )
    assert move_in.status_code == 201, move_in.text
    raised = await rig.raise_and_send()
    assert await rig.raise_and_send() == []  # raised once only
    by_gsrn = {r["gsrn"]: r for r in raised}
    first = by_gsrn[rig.single(0).gsrn]
    assert (first["kind"], first["effective_date"]) == ("BRS-001", "2025-03-24")
    assert first["customer_scheme"] == "ARR"
    assert rig.cipher.open(first["customer_id_sealed"]) == rig.cpr_of(rig.single(0))
    assert first["balance_responsible_gln"] == "5799994000022"
    assert by_gsrn[rig.single(1).gsrn]["kind"] == "BRS-009"
    assert await rig.status(switch.json()["signup_id"]) == "processing"
    process = await rig.process_of(switch.json()["signup_id"])
    assert process["status"] == "sent_to_datahub"


async def test_the_hold_keeps_a_signup_from_datahub(rig: Rig) -> None:
    rig.p.settings = rig.p.settings.model_copy(update={"send_delay_s": 3600})
    response = await rig.client.post("/api/signup", json=rig.signup_body(rig.single(0)))
    assert await scheduler.raise_due(rig.p) == 0
    await rig.service.database.execute(
        "UPDATE process SET send_after = now() WHERE signup_id = $1", response.json()["signup_id"]
    )
    assert await scheduler.raise_due(rig.p) == 1


async def test_rsm001_confirm_acknowledges_and_rsm022_activates_with_the_portfolio(
    rig: Rig,
) -> None:
    point = rig.single(0)
    signup_id = (await rig.client.post("/api/signup", json=rig.signup_body(point))).json()[
        "signup_id"
    ]
    process = await rig.process_of(signup_id)
    await rig.raise_and_send()
    reference = await rig.answer(process["request_id"], point.gsrn)
    process = await rig.process_of(signup_id)
    assert process["status"] == "effectuation_pending"
    assert process["datahub_reference"] == reference
    assert await rig.status(signup_id) == "processing"

    await rig.master_data(point, date(2025, 3, 24))
    assert await rig.status(signup_id) == "active"
    db = rig.service.database
    mp = await db.fetchrow("SELECT * FROM metering_points WHERE gsrn = $1", point.gsrn)
    assert mp is not None and (mp["grid_area"], mp["resolution"]) == (
        point.grid_area,
        point.resolution,
    )
    period = await db.fetchrow("SELECT * FROM supply_period WHERE gsrn = $1", point.gsrn)
    assert period is not None
    assert (period["start_date"], period["end_date"], period["status"]) == (
        date(2025, 3, 24),
        None,
        "active",
    )
    contract = await db.fetchrow("SELECT * FROM contract WHERE gsrn = $1", point.gsrn)
    assert contract is not None
    assert (contract["product_version"], contract["billing_frequency"]) == (1, "quarterly")
    assert contract["payment_model"] == "aconto"

    [activated] = await rig.events("portfolio.customer.activated")
    assert (activated["signup_id"], activated["effective_date"]) == (signup_id, "2025-03-24")
    assert activated["customer"]["cpr_cvr_masked"] == rig.cpr_of(point)[:6] + "****"
    [started] = await rig.events("portfolio.supply_period.changed")
    assert (started["start_date"], started["end_date"], started["reason"]) == (
        "2025-03-24",
        None,
        "started",
    )
    [registered] = await rig.events("portfolio.metering_point.registered")
    assert registered["price_area"] in ("DK1", "DK2")
    statuses = [e["status"] for e in await rig.events("portfolio.process.status_changed")]
    assert statuses == [
        "pending",
        "sent_to_datahub",
        "acknowledged",
        "effectuation_pending",
        "completed",
    ]
    # A repeated RSM-022 (e.g. a correction of master data) creates nothing twice.
    await rig.master_data(point, date(2025, 3, 24))
    assert await db.fetchval("SELECT count(*) FROM supply_period") == 1
    assert len(await rig.events("portfolio.customer.activated")) == 1


async def test_rsm001_reject_shows_the_reason_and_back_office_resubmits(rig: Rig) -> None:
    point = rig.single(0)
    body = rig.signup_body(point, cpr_cvr="0101901234")  # not the registered customer
    signup_id = (await rig.client.post("/api/signup", json=body)).json()["signup_id"]
    process = await rig.process_of(signup_id)
    await rig.raise_and_send()
    await rig.answer(
        process["request_id"],
        point.gsrn,
        accepted=False,
        reasons=("D17: CPR/CVR does not match the customer of the metering point",),
    )
    status = (await rig.client.get(f"/api/signup/{signup_id}/status")).json()
    assert status["status"] == "rejected"
    assert status["rejection_reason"].startswith("D17: CPR/CVR does not match")

    listed = (await rig.client.get("/api/signups", params={"status": "rejected"})).json()
    assert [s["signup_id"] for s in listed["items"]] == [signup_id]
    fixed = await rig.client.post(
        f"/api/signups/{signup_id}/resubmit", json={"cpr_cvr": rig.cpr_of(point)}
    )
    assert fixed.status_code == 201, fixed.text
    new_id = fixed.json()["signup_id"]
    assert new_id != signup_id and fixed.json()["resubmission_of"] == signup_id
    detail = (await rig.client.get(f"/api/signups/{signup_id}")).json()
    assert detail["resubmitted_as"] == new_id
    again = await rig.client.post(f"/api/signups/{signup_id}/resubmit", json={})
    assert again.status_code == 409
    raised = await rig.raise_and_send()
    assert rig.cipher.open(raised[0]["customer_id_sealed"]) == rig.cpr_of(point)


async def test_cancel_before_sending_never_reaches_datahub(rig: Rig) -> None:
    signup_id = (await rig.client.post("/api/signup", json=rig.signup_body(rig.single(0)))).json()[
        "signup_id"
    ]
    cancelled = await rig.client.post(f"/api/signup/{signup_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json() == {
        "signup_id": signup_id,
        "status": "cancelled",
        "cancellation": "done",
    }
    assert await rig.raise_and_send() == []
    # The metering point is free again.
    again = await rig.client.post("/api/signup", json=rig.signup_body(rig.single(0)))
    assert again.status_code == 201


async def test_cancel_after_sending_goes_through_rsm002(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = (await rig.client.post("/api/signup", json=rig.signup_body(point))).json()[
        "signup_id"
    ]
    process = await rig.process_of(signup_id)
    await rig.raise_and_send()
    await rig.answer(process["request_id"], point.gsrn)
    response = await rig.client.post(f"/api/signup/{signup_id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "processing"
    assert (await rig.process_of(signup_id))["status"] == "cancellation_pending"
    [cancel] = [
        r for r in await rig.events("portfolio.datahub_request.raised") if r["kind"] == "RSM-002"
    ]
    assert (cancel["cancels_request_id"], cancel["cancels_kind"]) == (
        process["request_id"],
        "BRS-001",
    )
    await rig.answer(cancel["request_id"], point.gsrn)
    assert await rig.status(signup_id) == "cancelled"
    timeline = (await rig.client.get(f"/api/signups/{signup_id}/events")).json()
    assert [e["status"] for e in timeline if e["source"] != "scheduler"] == [
        "pending",
        "sent_to_datahub",
        "acknowledged",
        "effectuation_pending",
        "cancellation_pending",
        "cancelled",
    ]


async def test_cancel_after_activation_is_409(rig: Rig) -> None:
    signup_id = await rig.activate(rig.single(0))
    response = await rig.client.post(f"/api/signup/{signup_id}/cancel")
    assert response.status_code == 409
    assert response.json()["type"].endswith("/not-cancellable")
    assert response.json()["current_status"] == "active"


async def test_a_second_signup_for_a_gsrn_with_an_open_process_is_409(rig: Rig) -> None:
    point = rig.single(0)
    first = await rig.client.post("/api/signup", json=rig.signup_body(point))
    second = await rig.client.post(
        "/api/signup", json=rig.signup_body(point, customer_name="Someone Else")
    )
    assert second.status_code == 409
    assert second.json()["signup_id"] == first.json()["signup_id"]
    # Raced: exactly one of many concurrent signups for one metering point wins.
    other = rig.single(1)
    bodies = [rig.signup_body(other, phone=f"+45{n:08d}") for n in range(8)]
    results = await asyncio.gather(*(rig.client.post("/api/signup", json=b) for b in bodies))
    assert sorted(r.status_code for r in results) == [201] + [409] * 7


async def test_idempotency_key_returns_the_first_result(rig: Rig) -> None:
    body = rig.signup_body(rig.single(0))
    headers = {"Idempotency-Key": "order-4711"}
    first = await rig.client.post("/api/signup", json=body, headers=headers)
    replays = await asyncio.gather(
        *(rig.client.post("/api/signup", json=body, headers=headers) for _ in range(5))
    )
    assert first.status_code == 201
    assert all(r.status_code == 201 and r.json() == first.json() for r in replays)
    assert all(r.headers["Idempotent-Replayed"] == "true" for r in replays)
    assert await rig.service.database.fetchval("SELECT count(*) FROM signup") == 1
    changed = await rig.client.post(
        "/api/signup", json={**body, "phone": "+4599999999"}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("/idempotency-key-reused")


async def test_every_rejection_is_problem_json(rig: Rig) -> None:
    point = rig.single(0)
    cases = {
        "invalid-cpr-cvr": rig.signup_body(point, cpr_cvr="3102901234"),
        "invalid-effective-date": rig.signup_body(point, effective_date="2025-03-21"),
        "no-metering-point": rig.signup_body(point, dar_id=str(uuid.uuid4())),
        "product-not-available": rig.signup_body(point, product_id=str(uuid.uuid4())),
        "invalid-gsrn": rig.signup_body(point, gsrn="571313180000000001"),
        "validation-error": {**rig.signup_body(point), "binding_period_months": 12},
    }
    for slug, body in cases.items():
        response = await rig.client.post("/api/signup", json=body)
        assert response.status_code == 400, (slug, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/" + slug), (slug, response.json())
    assert (await rig.client.get("/api/signup/SGN-2025-99999/status")).status_code == 404
    payer_missing = rig.signup_body(point, payer_name="Jensen Holding ApS")
    response = await rig.client.post("/api/signup", json=payer_missing)
    assert response.status_code == 400 and "payer_cpr_cvr" in response.text


async def test_back_office_lists_searches_and_shows_customers_with_payer(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = await rig.activate(
        point,
        payer_name="Jensen Holding ApS",
        payer_cpr_cvr="13585628",
        payer_contact_type="business",
        payer_email="regnskab@jensen.dk",
        payer_billing_street="Strandvejen",
        payer_billing_house_number="100",
        payer_billing_postal_code="2900",
        payer_billing_city="Hellerup",
    )
    await rig.client.post("/api/signup", json=rig.signup_body(rig.single(1), customer_name="Bo"))
    everything = (await rig.client.get("/api/signups", params={"page_size": 1})).json()
    assert everything["total"] == 2 and len(everything["items"]) == 1
    for term in (signup_id, point.gsrn, rig.cpr_of(point), "anders jensen", "anders@example.dk"):
        found = (await rig.client.get("/api/signups", params={"search": term})).json()
        assert signup_id in [s["signup_id"] for s in found["items"]], term
    assert (await rig.client.get("/api/signups", params={"status": "active"})).json()["total"] == 1

    detail = (await rig.client.get(f"/api/signups/{signup_id}")).json()
    assert detail["customer"]["name"] == "Anders Jensen"
    assert detail["customer"]["cpr_cvr"] == rig.cpr_of(point)[:6] + "****"
    assert detail["payer"]["name"] == "Jensen Holding ApS"
    assert detail["payer"]["billing_address"]["city"] == "Hellerup"
    assert detail["process"]["status"] == "completed"

    customers = (await rig.client.get("/api/customers")).json()
    assert customers["total"] == 2
    customer_id = detail["customer"]["id"]
    customer = (await rig.client.get(f"/api/customers/{customer_id}")).json()
    assert [c["gsrn"] for c in customer["contracts"]] == [point.gsrn]
    assert customer["contracts"][0]["payer_id"] == detail["payer"]["id"]
    assert customer["contracts"][0]["product_name"] == "Spot"
    assert [m["gsrn"] for m in customer["metering_points"]] == [point.gsrn]
    assert customer["supply_periods"][0]["start_date"] == "2025-03-24"
    assert customer["payers"][0]["cpr_cvr"] == "1358****"
    assert (await rig.client.get(f"/api/customers/{uuid.uuid4()}")).status_code == 404


async def test_a_refused_cancellation_can_be_asked_again(rig: Rig) -> None:
    point = rig.single(0)
    signup_id = (await rig.client.post("/api/signup", json=rig.signup_body(point))).json()[
        "signup_id"
    ]
    process = await rig.process_of(signup_id)
    await rig.raise_and_send()
    await rig.answer(process["request_id"], point.gsrn)
    first = await rig.client.post(f"/api/signup/{signup_id}/cancel")
    again = await rig.client.post(f"/api/signup/{signup_id}/cancel")  # while DataHub decides
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["cancellation"] == "requested"
    cancels = [
        r for r in await rig.events("portfolio.datahub_request.raised") if r["kind"] == "RSM-002"
    ]
    assert len(cancels) == 1
    await rig.answer(
        cancels[0]["request_id"], point.gsrn, accepted=False, reasons=("E16: not yours",)
    )
    assert (await rig.process_of(signup_id))["status"] == "effectuation_pending"
    retry = await rig.client.post(f"/api/signup/{signup_id}/cancel")
    assert retry.status_code == 202
    cancels = [
        r for r in await rig.events("portfolio.datahub_request.raised") if r["kind"] == "RSM-002"
    ]
    assert len(cancels) == 2 and cancels[0]["request_id"] != cancels[1]["request_id"]
    await rig.answer(cancels[1]["request_id"], point.gsrn)
    assert await rig.status(signup_id) == "cancelled"


async def test_concurrent_retries_with_one_key_all_get_the_first_result(rig: Rig) -> None:
    body = rig.signup_body(rig.single(0))
    headers = {"Idempotency-Key": "retry-after-timeout"}
    results = await asyncio.gather(
        *(rig.client.post("/api/signup", json=body, headers=headers) for _ in range(6))
    )
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.json()["signup_id"] for r in results}) == 1


async def test_a_switch_for_a_metering_point_we_supply_is_refused(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    again = await rig.client.post("/api/signup", json=rig.signup_body(point))
    assert again.status_code == 409 and again.json()["type"].endswith("/already-supplied")


async def test_a_signup_never_changes_a_customer_until_it_is_confirmed(rig: Rig) -> None:
    point, other = rig.single(0), rig.single(1)
    signup_id = await rig.activate(point)
    customer_id = (await rig.client.get(f"/api/signups/{signup_id}")).json()["customer"]["id"]
    body = rig.signup_body(
        other, cpr_cvr=rig.cpr_of(point), customer_name="Mallory", email="m@example.dk"
    )
    second = await rig.client.post("/api/signup", json=body)
    assert second.status_code == 201
    customer = (await rig.client.get(f"/api/customers/{customer_id}")).json()
    assert (customer["name"], customer["email"]) == ("Anders Jensen", "anders@example.dk")


async def test_master_data_for_another_date_does_not_complete_an_open_process(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    moved = await rig.client.post(
        "/api/processes",
        json={"kind": "move_out", "gsrn": point.gsrn, "effective_date": "2025-05-15"},
    )
    assert moved.status_code == 201
    signup_id = (await rig.client.post("/api/signup", json=rig.signup_body(rig.single(1)))).json()[
        "signup_id"
    ]
    process = await rig.process_of(signup_id)
    await rig.raise_and_send()
    await rig.answer(process["request_id"], rig.single(1).gsrn)
    # A master-data update (another date) for the point with a switch pending.
    await rig.master_data(rig.single(1), date(2025, 3, 10), process_type="E34")
    assert await rig.status(signup_id) == "processing"
    await rig.master_data(rig.single(1), date(2025, 3, 24))
    assert await rig.status(signup_id) == "active"


async def test_one_bad_process_does_not_stop_the_others_being_sent(rig: Rig) -> None:
    first = await rig.client.post("/api/signup", json=rig.signup_body(rig.single(0)))
    await rig.client.post("/api/signup", json=rig.signup_body(rig.single(1)))
    await rig.service.database.execute(
        "UPDATE party SET sealed = 'not-a-token' WHERE party_id = "
        "(SELECT customer_id FROM signup WHERE signup_id = $1)",
        first.json()["signup_id"],
    )
    raised = await rig.raise_and_send()
    assert [r["gsrn"] for r in raised] == [rig.single(1).gsrn]
    assert (await rig.process_of(first.json()["signup_id"]))["raised_at"] is None


async def test_without_an_effective_date_a_signup_takes_the_soonest_allowed(rig: Rig) -> None:
    today = await rig.p.today()
    body = rig.signup_body(rig.single(20))
    del body["effective_date"]
    switch = await rig.client.post("/api/signup", json=body)
    assert switch.status_code == 201, switch.text
    # 15 Danish business days of notice for a switch: the first day of its window.
    assert switch.json()["effective_date"] == business_days_ahead(today, 15).isoformat()
    body = rig.signup_body(rig.single(21), type="move_in")
    del body["effective_date"]
    move_in = await rig.client.post("/api/signup", json=body)
    assert move_in.status_code == 201, move_in.text
    assert move_in.json()["effective_date"] == today.isoformat()  # moving in today
