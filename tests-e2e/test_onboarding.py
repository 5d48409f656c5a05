"""Onboarding through the gateway, the datahub service and the simulator's market rules, and
one metering point followed from DataHub's RSM-012 to its settlement line.

A system of its own: a small market (another supplier holds every metering point, so our
signups are switches) and a 2-second hold before a signup is sent to DataHub, so a signup can
be cancelled before DataHub hears of it. The whole system follows the simulator's clock.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from scenario import COPENHAGEN, Scenario, eventually, generated_client, started
from wattline_platform.business_days import business_days_back
from wattline_simulator.domain.seeding import SeededPoint, seeded_points

D = Decimal
SEED, POINTS = 21, 40
OTHER_SUPPLIER = "5799994000046"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    yield from started(
        tmp_path_factory.mktemp("wattline-onboarding"),
        {"WATTLINE_PORTFOLIO_SEND_DELAY_S": "2"},
    )


@pytest.fixture(autouse=True)
async def market(system: Scenario) -> None:
    """Every test: DataHub's market of 40 points another supplier holds, and the gateway's
    answers seen from here on (for the CPR check)."""
    seeded = await system.given_a_market(metering_points=POINTS, seed=SEED, ours_share=0)
    assert seeded.status_code == 200, seeded.text
    system.responses.clear()


def take(system: Scenario) -> SeededPoint:
    return system.given_a_free_point(SEED, POINTS, OTHER_SUPPLIER)


async def test_rsm012_from_datahub_to_a_settlement_line(system: Scenario, tmp_path: Path) -> None:
    """First in the module: the market's clock still stands at 1 January 2025. The run and
    its lines go through a client generated from the gateway's OpenAPI document."""
    # Given a metering point of ours on the fixed-price product (1.10 DKK/kWh): the customer
    # signed up, DataHub confirmed the switch and effectuated it on 22 January.
    # (The last free point: the other tests take theirs from the front, as before.)
    point = system.given_a_free_point(SEED, POINTS, OTHER_SUPPLIER, last=True)
    signup = await system.given_an_active_metering_point(point, product="Fastpris")
    assert signup["effective_date"] == "2025-01-22"  # 15 business days after 1 January
    # When January ends (DataHub sends its own days) and DataHub then sends validated hourly
    # data (RSM-012) for each supplied day, 22 to 31 January: 0.417 kWh every hour
    await system.when_the_clock_moves_to("2025-02-02T00:00:00+00:00")
    await system.then_datahub_has_sent_everything()
    days = [date(2025, 1, 22) + timedelta(days=k) for k in range(10)]
    await system.when_datahub_sends_hourly_data(
        point.gsrn, days, D("0.417"), registered="2025-02-02T05:55:00Z"
    )
    metered = await eventually(
        lambda: system.then_consumption(point.gsrn, "2025-01-22", "2025-02-01"),
        lambda c: c["total_kwh"] == "100.080",
        60,
    )
    assert (metered["total_kwh"], metered["complete"]) == ("100.080", True), metered
    # and a settlement run of January is made
    client_dir = tmp_path / "client"
    client_dir.mkdir()
    api, client, warnings = generated_client(system, client_dir)
    print("\nopenapi-python-client warned:\n  " + "\n  ".join(warnings))
    # Settlement's and the portfolio's operations all generate, their models complete (a CSV
    # upload is no JSON model: the generator skips that body's content type, nothing more).
    gaps = [w for w in warnings if ("/api/settlement/" in w or "/api/portfolio/" in w)
            and "Unsupported content type" not in w]  # fmt: skip
    assert not gaps, warnings
    start = importlib_module(api, "api.settlement.api_settlement_runs_start")
    detail = importlib_module(api, "api.settlement.api_settlement_runs_run_id_detail")
    lines = importlib_module(api, "api.settlement.api_settlement_runs_run_id_lines_lines")
    started_run = await start.asyncio(client=client, body=api.models.RunIn(period="2025-01"))
    assert isinstance(started_run, api.models.SettlementRun), started_run
    run = await eventually(
        lambda: detail.asyncio(started_run.run_id, client=client),
        lambda r: r.status in ("completed", "blocked", "failed"),
        60,
    )
    assert run.status == "completed", run
    page = await lines.asyncio(run.run_id, client=client)
    assert isinstance(page, api.models.SettlementPage), page
    # then its settlement line bills exactly what DataHub metered, priced by hand:
    [settlement] = [s for s in page.items if s.gsrn == point.gsrn]
    assert (settlement.period.start, settlement.period.end) == (date(2025, 1, 22), date(2025, 2, 1))
    # 10 days x 24 hours x 0.417 kWh = 100.080 kWh
    kwh = 10 * 24 * D("0.417")
    assert kwh == D("100.080") and D(settlement.consumption_kwh) == kwh
    by_code = {line.code: line for line in settlement.lines}
    energy = by_code["fixed_price_energy"]
    # 100.080 kWh x 1.10 DKK/kWh = 110.0880 DKK, rounded half up to the øre: 110.09
    assert kwh * D("1.10") == D("110.0880")
    assert D(energy.quantity_kwh) == kwh and D(energy.amount) == D("110.09")
    # elafgift 0.720 DKK/kWh: 100.080 x 0.720 = 72.05760 DKK -> 72.06
    assert (kwh * D("0.720")).quantize(D("0.01"), ROUND_HALF_UP) == D("72.06")
    assert D(by_code["electricity_tax"].amount) == D("72.06")


def importlib_module(package: object, name: str) -> Any:
    """A module of the generated client's package, by its dotted name under it."""
    return importlib.import_module(f"{package.__name__}.{name}")  # type: ignore[attr-defined]


async def test_signup_to_active_then_409_on_cancel(system: Scenario) -> None:
    point = take(system)
    response = await system.when_a_customer_signs_up(point)
    assert response.status_code == 201, response.text
    signup = response.json()
    assert signup["status"] == "registered" and signup["gsrn"] == point.gsrn
    signup_id = signup["signup_id"]

    # BRS-001 sent, RSM-001 confirmed by the simulator's rules.
    await system.then_process_becomes(signup_id, "effectuation_pending")
    [process] = await system.then_datahub_processes(point.gsrn)
    assert (process["process_type"], process["state"]) == ("E03", "open")
    assert process["effective_start"].startswith(
        (date.fromisoformat(signup["effective_date"]) - timedelta(days=1)).isoformat()
    )
    status = (await system.call("GET", f"/api/signup/{signup_id}/status")).json()
    assert status["status"] == "processing"

    # The effective date comes: RSM-022, and the portfolio exists.
    await system.when_the_clock_moves_to_day(date.fromisoformat(signup["effective_date"]))
    await system.then_process_becomes(signup_id, "completed")
    status = (await system.call("GET", f"/api/signup/{signup_id}/status")).json()
    assert status["status"] == "active"
    customer = await system.then_customer_of(signup_id)
    assert [m["gsrn"] for m in customer["metering_points"]] == [point.gsrn]
    assert customer["metering_points"][0]["grid_area"] == point.grid_area
    assert [(c["gsrn"], c["start_date"], c["end_date"]) for c in customer["contracts"]] == [
        (point.gsrn, signup["effective_date"], None)
    ]
    assert customer["supply_periods"][0]["start_date"] == signup["effective_date"]
    timeline = (await system.call("GET", f"/api/signups/{signup_id}/events")).json()
    assert [e["status"] for e in timeline if e["source"] == "datahub"] == [
        "sent_to_datahub",
        "acknowledged",
        "effectuation_pending",
        "completed",
    ]

    late = await system.call("POST", f"/api/signup/{signup_id}/cancel")
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")


async def test_rejected_by_datahub_with_the_reason(system: Scenario) -> None:
    point = take(system)
    response = await system.when_a_customer_signs_up(
        point, cpr_cvr="0101901234"
    )  # not the customer there
    signup_id = response.json()["signup_id"]
    await system.then_process_becomes(signup_id, "rejected")
    status = (await system.call("GET", f"/api/signup/{signup_id}/status")).json()
    assert status["status"] == "rejected"
    assert status["rejection_reason"].startswith("D17")
    # Back office corrects the CPR number and re-submits.
    fixed = await system.call(
        "POST", f"/api/signups/{signup_id}/resubmit", json={"cpr_cvr": system.cpr(point)}
    )
    assert fixed.status_code == 201, fixed.text
    await system.then_process_becomes(fixed.json()["signup_id"], "effectuation_pending")


async def test_cancel_before_sending_and_after_sending_via_rsm002(system: Scenario) -> None:
    early, late = take(system), take(system)
    response = await system.when_a_customer_signs_up(early)
    assert response.status_code == 201, response.text
    cancelled = await system.call("POST", f"/api/signup/{response.json()['signup_id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    response = await system.when_a_customer_signs_up(late)
    signup_id = response.json()["signup_id"]
    await system.then_process_becomes(signup_id, "effectuation_pending")
    busy = await system.when_a_customer_signs_up(late, customer_name="Somebody Else")
    assert busy.status_code == 409 and busy.json()["signup_id"] == signup_id
    cancel = await system.call("POST", f"/api/signup/{signup_id}/cancel")
    assert cancel.status_code == 202, cancel.text
    await system.then_process_becomes(signup_id, "cancelled")
    assert (await system.call("GET", f"/api/signup/{signup_id}/status")).json()[
        "status"
    ] == "cancelled"
    [process] = await system.then_datahub_processes(late.gsrn)
    assert process["state"] == "cancelled"
    await asyncio.sleep(1)  # the early one's hold is long over: DataHub never heard of it
    assert await system.then_datahub_processes(early.gsrn) == []


async def test_other_supplier_mid_month_move_out_mid_quarter_and_move_in_back_dated(
    system: Scenario,
) -> None:
    switched, moving = take(system), take(system)
    first = (await system.when_a_customer_signs_up(switched)).json()
    second = (await system.when_a_customer_signs_up(moving)).json()
    for s in (first, second):
        await system.then_process_becomes(s["signup_id"], "effectuation_pending")
    start = date.fromisoformat(first["effective_date"])
    await system.when_the_clock_moves_to_day(start)
    for s in (first, second):
        await system.then_process_becomes(s["signup_id"], "completed")

    # Another supplier takes the first from the 15th of next month (RSM-004 to us) ...
    month = (start.replace(day=1) + timedelta(days=32)).replace(day=15)
    taken = await system.when_another_supplier_takes_over(
        switched.gsrn, datetime(month.year, month.month, 15, tzinfo=COPENHAGEN)
    )
    assert taken.status_code == 201, taken.text
    # ... and the second customer moves out on the 12th, mid-quarter.
    move_out_day = month.replace(day=12)
    moved = await system.when_the_customer_moves_out(moving.gsrn, move_out_day)
    assert moved.status_code == 201, moved.text
    await system.then_process_status_becomes(moved.json()["process_id"], "effectuation_pending")

    await system.when_the_clock_moves_to_day(month + timedelta(days=1))
    await system.then_supply_period_ends(first["signup_id"], switched.gsrn, month.isoformat())
    await system.then_supply_period_ends(second["signup_id"], moving.gsrn, move_out_day.isoformat())
    await system.then_process_status_becomes(moved.json()["process_id"], "completed")

    # A move-in dated three business days back, effectuated by DataHub at once.
    back = business_days_back(await system.today(), 3)
    point = take(system)
    response = await system.when_a_customer_signs_up(
        point, type="move_in", effective_date=back.isoformat()
    )
    assert response.status_code == 201, response.text
    signup_id = response.json()["signup_id"]
    await system.then_process_becomes(signup_id, "effectuation_pending", "completed")
    await system.when_the_clock_moves_to_day(await system.today())
    await system.then_process_becomes(signup_id, "completed")
    periods = (await system.then_customer_of(signup_id))["supply_periods"]
    assert [(p["gsrn"], p["start_date"]) for p in periods if p["gsrn"] == point.gsrn] == [
        (point.gsrn, back.isoformat())
    ]


async def test_no_cpr_number_in_logs_events_or_api_responses(system: Scenario) -> None:
    """Runs last in this module: every CPR number used above, grepped everywhere."""
    points = list(seeded_points(SEED, POINTS, supplier_gln=OTHER_SUPPLIER))
    numbers = {system.cpr(p) for p in points} | {"0101901234"}
    # Produce some traffic of its own so the test stands alone too.
    point = take(system)
    key = {"Idempotency-Key": f"e2e-{point.gsrn}"}
    response = await system.when_a_customer_signs_up(point, headers=key)
    assert response.status_code == 201
    replayed = await system.when_a_customer_signs_up(
        point, headers=key
    )  # a retry through the gateway
    assert replayed.status_code == 201 and replayed.json() == response.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    await system.then_process_becomes(response.json()["signup_id"], "effectuation_pending")
    for signup in (await system.call("GET", "/api/signups", params={"page_size": 500})).json()[
        "items"
    ]:
        await system.then_signup(signup["signup_id"])
        await system.then_customer_of(signup["signup_id"])

    conn = await asyncpg.connect(system.admin_dsn)
    try:
        schemas = [
            r["table_schema"]
            for r in await conn.fetch(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'"
            )
        ]
        events = [
            row["envelope"]
            for schema in schemas
            for row in await conn.fetch(f"SELECT envelope::text FROM {schema}.outbox")
        ]
        portfolio = [
            json.dumps(dict(r), default=str)
            for table in ("party", "signup", "process", "process_event")
            for r in await conn.fetch(f"SELECT * FROM portfolio.{table}")
        ]
    finally:
        await conn.close()
    assert any("portfolio.customer.activated" in e for e in events)
    logs = system.log.read_text()
    for number in numbers:
        assert number not in logs, "a CPR number in the logs"
        assert not [e for e in events if number in e], "a CPR number in an event"
        assert not [r for r in system.responses if number in r], "a CPR number in a response"
        assert not [r for r in portfolio if number in r], "a CPR number stored in clear"
    masked = system.cpr(point)[:6] + "****"
    assert any(masked in r for r in system.responses)
