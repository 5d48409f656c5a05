"""Onboarding through the gateway, the datahub service and the simulator's market rules.

A system of its own: a small market (another supplier holds every metering point, so our
signups are switches) and a 2-second hold before a signup is sent to DataHub, so a signup can
be cancelled before DataHub hears of it. The whole system follows the simulator's clock.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from e2e_system import System, running
from wattline_platform.business_days import business_days_ahead, business_days_back
from wattline_simulator.domain.seeding import SeededPoint, customer_id_for, seeded_points

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SEED, POINTS = 21, 40
OTHER_SUPPLIER = "5799994000046"
_TAKEN: set[str] = set()  # metering points already used by a test of this module


@pytest.fixture(scope="module")
def onboarding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from running(
        tmp_path_factory.mktemp("wattline-onboarding"),
        {"WATTLINE_PORTFOLIO_SEND_DELAY_S": "2"},
    )


class Market:
    """The gateway and the simulator, and every API response seen (for the CPR check)."""

    def __init__(self, system: System, api: httpx.AsyncClient, sim: httpx.AsyncClient) -> None:
        self.system, self.api, self.sim = system, api, sim
        self.responses: list[str] = []
        points = list(seeded_points(SEED, POINTS, supplier_gln=OTHER_SUPPLIER))
        shared = {p.dar_id for p in points if sum(q.dar_id == p.dar_id for q in points) > 1}
        self.free = [p for p in points if p.metering_point_type == "E17" and p.dar_id not in shared]

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.api.request(method, url, **kwargs)
        self.responses.append(response.text)
        return response

    def take(self) -> SeededPoint:
        point = next(p for p in self.free if p.gsrn not in _TAKEN)
        _TAKEN.add(point.gsrn)
        return point

    @staticmethod
    def cpr(point: SeededPoint) -> str:
        return customer_id_for(point.dar_id, point.profile == "business")[1]

    async def today(self) -> date:
        now = datetime.fromisoformat((await self.sim.get("/sim/clock")).json()["now"])
        return now.astimezone(COPENHAGEN).date()

    async def move_clock(self, day: date) -> None:
        """Move the simulated clock to 01:00 Danish time on *day* (DataHub effectuates)."""
        moment = datetime(day.year, day.month, day.day, 1, tzinfo=COPENHAGEN)
        response = await self.sim.post(
            "/sim/clock", json={"to": moment.astimezone(UTC).isoformat()}, timeout=600
        )
        assert response.status_code == 200, response.text

    async def signup(
        self, point: SeededPoint, headers: dict[str, str] | None = None, **changes: Any
    ) -> httpx.Response:
        products = (await self.call("GET", "/api/products")).json()
        body = {
            "dar_id": str(point.dar_id),
            "customer_name": "Anders Jensen",
            "cpr_cvr": self.cpr(point),
            "contact_type": "business" if point.profile == "business" else "private",
            "email": "anders@example.dk",
            "product_id": products[0]["product_id"],
            "type": "switch",
            "effective_date": business_days_ahead(await self.today(), 15).isoformat(),
            "billing_street": "Nørrebrogade",
            "billing_house_number": "42",
            "billing_postal_code": "2200",
            "billing_city": "København N",
            **changes,
        }
        return await self.call("POST", "/api/signup", json=body, headers=headers or {})

    async def detail(self, signup_id: str) -> dict[str, Any]:
        response = await self.call("GET", f"/api/signups/{signup_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def wait_process(self, signup_id: str, *statuses: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = (await self.detail(signup_id))["process"]["status"]
            if status in statuses:
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"{signup_id} is {status}, not {statuses}")

    async def sim_processes(self, gsrn: str) -> list[dict[str, Any]]:
        return [p for p in (await self.sim.get("/sim/processes")).json() if p["gsrn"] == gsrn]

    async def customer(self, signup_id: str) -> dict[str, Any]:
        customer_id = (await self.detail(signup_id))["customer"]["id"]
        found: dict[str, Any] = (await self.call("GET", f"/api/customers/{customer_id}")).json()
        return found

    async def wait_period(self, signup_id: str, gsrn: str, end: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        periods: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            periods = [
                p for p in (await self.customer(signup_id))["supply_periods"] if p["gsrn"] == gsrn
            ]
            if periods and periods[-1]["end_date"] == end:
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"supply periods of {gsrn}: {periods}")


@pytest.fixture
async def market(onboarding: System) -> AsyncIterator[Market]:
    async with (
        onboarding.client() as api,
        httpx.AsyncClient(
            base_url=onboarding.simulator_url, timeout=60, auth=onboarding.identity_auth()
        ) as sim,
    ):
        seeded = await sim.post(
            "/sim/seed", json={"metering_points": POINTS, "seed": SEED, "ours_share": 0}
        )
        assert seeded.status_code == 200, seeded.text
        yield Market(onboarding, api, sim)


async def test_signup_to_active_then_409_on_cancel(market: Market) -> None:
    point = market.take()
    response = await market.signup(point)
    assert response.status_code == 201, response.text
    signup = response.json()
    assert signup["status"] == "registered" and signup["gsrn"] == point.gsrn
    signup_id = signup["signup_id"]

    # BRS-001 sent, RSM-001 confirmed by the simulator's rules.
    await market.wait_process(signup_id, "effectuation_pending")
    [process] = await market.sim_processes(point.gsrn)
    assert (process["process_type"], process["state"]) == ("E03", "open")
    assert process["effective_start"].startswith(
        (date.fromisoformat(signup["effective_date"]) - timedelta(days=1)).isoformat()
    )
    status = (await market.call("GET", f"/api/signup/{signup_id}/status")).json()
    assert status["status"] == "processing"

    # The effective date comes: RSM-022, and the portfolio exists.
    await market.move_clock(date.fromisoformat(signup["effective_date"]))
    await market.wait_process(signup_id, "completed")
    status = (await market.call("GET", f"/api/signup/{signup_id}/status")).json()
    assert status["status"] == "active"
    customer = await market.customer(signup_id)
    assert [m["gsrn"] for m in customer["metering_points"]] == [point.gsrn]
    assert customer["metering_points"][0]["grid_area"] == point.grid_area
    assert [(c["gsrn"], c["start_date"], c["end_date"]) for c in customer["contracts"]] == [
        (point.gsrn, signup["effective_date"], None)
    ]
    assert customer["supply_periods"][0]["start_date"] == signup["effective_date"]
    timeline = (await market.call("GET", f"/api/signups/{signup_id}/events")).json()
    assert [e["status"] for e in timeline if e["source"] == "datahub"] == [
        "sent_to_datahub",
        "acknowledged",
        "effectuation_pending",
        "completed",
    ]

    late = await market.call("POST", f"/api/signup/{signup_id}/cancel")
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")


async def test_rejected_by_datahub_with_the_reason(market: Market) -> None:
    point = market.take()
    response = await market.signup(point, cpr_cvr="0101901234")  # not the customer there
    signup_id = response.json()["signup_id"]
    await market.wait_process(signup_id, "rejected")
    status = (await market.call("GET", f"/api/signup/{signup_id}/status")).json()
    assert status["status"] == "rejected"
    assert status["rejection_reason"].startswith("D17")
    # Back office corrects the CPR number and re-submits.
    fixed = await market.call(
        "POST", f"/api/signups/{signup_id}/resubmit", json={"cpr_cvr": market.cpr(point)}
    )
    assert fixed.status_code == 201, fixed.text
    await market.wait_process(fixed.json()["signup_id"], "effectuation_pending")


async def test_cancel_before_sending_and_after_sending_via_rsm002(market: Market) -> None:
    early, late = market.take(), market.take()
    response = await market.signup(early)
    assert response.status_code == 201, response.text
    cancelled = await market.call("POST", f"/api/signup/{response.json()['signup_id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    response = await market.signup(late)
    signup_id = response.json()["signup_id"]
    await market.wait_process(signup_id, "effectuation_pending")
    busy = await market.signup(late, customer_name="Somebody Else")
    assert busy.status_code == 409 and busy.json()["signup_id"] == signup_id
    cancel = await market.call("POST", f"/api/signup/{signup_id}/cancel")
    assert cancel.status_code == 202, cancel.text
    await market.wait_process(signup_id, "cancelled")
    assert (await market.call("GET", f"/api/signup/{signup_id}/status")).json()[
        "status"
    ] == "cancelled"
    [process] = await market.sim_processes(late.gsrn)
    assert process["state"] == "cancelled"
    await asyncio.sleep(1)  # the early one's hold is long over: DataHub never heard of it
    assert await market.sim_processes(early.gsrn) == []


async def test_other_supplier_mid_month_move_out_mid_quarter_and_move_in_back_dated(
    market: Market,
) -> None:
    switched, moving = market.take(), market.take()
    first = (await market.signup(switched)).json()
    second = (await market.signup(moving)).json()
    for s in (first, second):
        await market.wait_process(s["signup_id"], "effectuation_pending")
    start = date.fromisoformat(first["effective_date"])
    await market.move_clock(start)
    for s in (first, second):
        await market.wait_process(s["signup_id"], "completed")

    # Another supplier takes the first from the 15th of next month (RSM-004 to us) ...
    month = (start.replace(day=1) + timedelta(days=32)).replace(day=15)
    taken = await market.sim.post(
        "/sim/processes/switch",
        json={
            "gsrn": switched.gsrn,
            "effective_start": datetime(month.year, month.month, 15, tzinfo=COPENHAGEN)
            .astimezone(UTC)
            .isoformat(),
        },
    )
    assert taken.status_code == 201, taken.text
    # ... and the second customer moves out on the 12th, mid-quarter.
    move_out_day = month.replace(day=12)
    moved = await market.call(
        "POST",
        "/api/processes",
        json={"kind": "move_out", "gsrn": moving.gsrn, "effective_date": move_out_day.isoformat()},
    )
    assert moved.status_code == 201, moved.text
    await _wait_process_status(market, moved.json()["process_id"], "effectuation_pending")

    await market.move_clock(month + timedelta(days=1))
    await market.wait_period(first["signup_id"], switched.gsrn, month.isoformat())
    await market.wait_period(second["signup_id"], moving.gsrn, move_out_day.isoformat())
    await _wait_process_status(market, moved.json()["process_id"], "completed")

    # A move-in dated three business days back, effectuated by DataHub at once.
    back = business_days_back(await market.today(), 3)
    point = market.take()
    response = await market.signup(point, type="move_in", effective_date=back.isoformat())
    assert response.status_code == 201, response.text
    signup_id = response.json()["signup_id"]
    await market.wait_process(signup_id, "effectuation_pending", "completed")
    await market.move_clock(await market.today())
    await market.wait_process(signup_id, "completed")
    periods = (await market.customer(signup_id))["supply_periods"]
    assert [(p["gsrn"], p["start_date"]) for p in periods if p["gsrn"] == point.gsrn] == [
        (point.gsrn, back.isoformat())
    ]


async def _wait_process_status(market: Market, process_id: str, status: str) -> None:
    deadline = time.monotonic() + 60
    found = None
    while time.monotonic() < deadline:
        found = (await market.call("GET", f"/api/processes/{process_id}")).json()["status"]
        if found == status:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"process {process_id} is {found}, not {status}")


async def test_no_cpr_number_in_logs_events_or_api_responses(market: Market) -> None:
    """Runs last in this module: every CPR number used above, grepped everywhere."""
    points = list(seeded_points(SEED, POINTS, supplier_gln=OTHER_SUPPLIER))
    numbers = {market.cpr(p) for p in points} | {"0101901234"}
    # Produce some traffic of its own so the test stands alone too.
    point = market.take()
    key = {"Idempotency-Key": f"e2e-{point.gsrn}"}
    response = await market.signup(point, headers=key)
    assert response.status_code == 201
    replayed = await market.signup(point, headers=key)  # a retry through the gateway
    assert replayed.status_code == 201 and replayed.json() == response.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    await market.wait_process(response.json()["signup_id"], "effectuation_pending")
    for signup in (await market.call("GET", "/api/signups", params={"page_size": 500})).json()[
        "items"
    ]:
        await market.detail(signup["signup_id"])
        await market.customer(signup["signup_id"])

    conn = await asyncpg.connect(market.system.admin_dsn)
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
    logs = market.system.log.read_text()
    for number in numbers:
        assert number not in logs, "a CPR number in the logs"
        assert not [e for e in events if number in e], "a CPR number in an event"
        assert not [r for r in market.responses if number in r], "a CPR number in a response"
        assert not [r for r in portfolio if number in r], "a CPR number stored in clear"
    masked = market.cpr(point)[:6] + "****"
    assert any(masked in r for r in market.responses)
