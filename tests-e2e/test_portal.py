"""The customer portal through the gateway: two customers of ours (the go-live import), a month
of DataHub's data from the simulator, January settled and invoiced; a portal token for one of
them reads its metering points, contract, consumption (days and the month summing the hours to
the Wh), spot prices, invoice with its lines and PDF, payments and balance, and nothing of the
other's (404); an admin key is refused the portal (403), a revoked or expired token too (401).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from e2e_system import System, running, wait_for, wattline

D = Decimal
PORTAL = ("/api/portfolio/portal", "/api/settlement/portal", "/api/invoicing/portal")


@pytest.fixture(scope="module")
def portal_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A system of its own: the test moves its market clock a month ahead and closes January's
    monthly cycle, which the session's system (quarterly aconto contracts by default, its clock
    shared with the onboarding tests) should not have done to it."""
    yield from running(
        tmp_path_factory.mktemp("wattline-portal"),
        {
            "WATTLINE_INVOICING_JOB_INTERVAL_S": "1",
            "WATTLINE_PORTFOLIO_BILLING_FREQUENCY": "monthly",
            "WATTLINE_PORTFOLIO_PAYMENT_MODEL": "arrears",
        },
    )


def _sum(points: list[dict[str, Any]]) -> Decimal:
    return sum((D(p["kwh"]) for p in points if p["kwh"] is not None), D("0.000"))


def _customers(api: httpx.Client) -> dict[str, str]:
    """GSRN -> the id of the customer supplied there (back office's view)."""
    owners = {}
    for item in api.get("/api/customers", params={"page_size": 100}).json()["items"]:
        detail = api.get(f"/api/customers/{item['customer_id']}").json()
        for period in detail["supply_periods"]:
            owners[period["gsrn"]] = item["customer_id"]
    return owners


def test_two_customers_each_see_only_their_own(portal_system: System, tmp_path: Path) -> None:
    system = portal_system
    seeded = wattline("sim", "seed", "--metering-points", "9", "--seed", "5", "--ours-share",
                      "0.34", "--customers", "1", home=system.home, cwd=tmp_path)  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    with (
        httpx.Client(base_url=system.url, headers={"X-API-Key": system.key}, timeout=120) as api,
        httpx.Client(base_url=system.url, timeout=60) as web,
    ):
        owners = wait_for(lambda: _customers(api), lambda o: len(o) >= 2)
        gsrns = sorted(owners)
        for gsrn in gsrns:
            known = wait_for(lambda g=gsrn: api.get(f"/api/settlement/metering-points/{g}"),
                             lambda r: r.status_code == 200)  # fmt: skip
            assert known.status_code == 200, known.text

        # January's data, spot prices, the settlement run and the monthly cycle's invoices.
        moved = wattline("sim", "clock", "--to", "2025-02-03T00:00:00+00:00", "--wait",
                         home=system.home, cwd=tmp_path, timeout=900)  # fmt: skip
        assert moved.returncode == 0, moved.stderr
        for area in ("DK1", "DK2"):
            spot = api.post(
                "/api/settlement/spot-prices/import",
                json={"price_area": area, "from": "2025-01-01", "to": "2025-01-31"},
            )
            assert spot.status_code == 200, spot.text
        for _ in range(10):
            run = wattline("settlement", "run", "--period", "2025-01", home=system.home,
                           cwd=tmp_path)  # fmt: skip
            if run.returncode == 0 and "completed" in run.stdout.splitlines()[-1]:
                break
            time.sleep(3)
        assert run.returncode == 0, run.stdout + run.stderr
        settled = {}
        for gsrn in gsrns:
            history = api.get(f"/api/settlement/metering-points/{gsrn}/settlements").json()
            [january] = [s for s in history["settlements"] if s["billing_period"] == "2025-01"]
            settled[gsrn] = january
        closed = api.post("/api/invoices/cycles/2025-01/close")
        assert closed.status_code == 200, closed.text
        invoice_of: dict[str, dict[str, Any]] = {}  # customer id -> back office's invoice
        for doc in api.get("/api/invoices", params={"cycle": "2025-01"}).json()["items"]:
            detail = api.get(f"/api/invoices/{doc['invoice_id']}").json()
            if detail["account_id"] in owners.values():  # the customer pays it themselves
                invoice_of[detail["account_id"]] = detail
        paying = [g for g in gsrns if owners[g] in invoice_of]
        assert len(paying) >= 2, (owners, list(invoice_of))
        a_gsrn, b_gsrn = paying[:2]
        anna, bo = owners[a_gsrn], owners[b_gsrn]
        assert anna != bo
        mine, theirs = invoice_of[anna], invoice_of[bo]

        # Anna pays part of hers by bank transfer.
        statement = (
            "Entry_ID;Booking_Date;Amount;Reference;Counterparty\r\n"
            f"E1;2025-02-20;100,00;Faktura {mine['number']};Anna\r\n"
        )
        booked = api.post("/api/payments/bank-statements", content=statement.encode(),
                          headers={"content-type": "text/csv"})  # fmt: skip
        assert booked.status_code == 200 and booked.json()["matched"] == 1, booked.text

        # Back office gives Anna a portal token.
        issued = api.post("/api/portal-tokens", json={"customer_id": anna})
        assert issued.status_code == 201, issued.text
        token = issued.json()
        me = {"Authorization": f"Bearer {token['token']}"}

        # Her metering points and contract.
        points = web.get("/api/portfolio/portal/metering-points", headers=me)
        assert points.status_code == 200, points.text
        my_points = {p["gsrn"]: p for p in points.json()["metering_points"]}
        assert a_gsrn in my_points and b_gsrn not in my_points
        assert set(my_points) == {g for g, c in owners.items() if c == anna}
        assert my_points[a_gsrn]["supply"]["supplied_now"] is True
        contract = web.get("/api/portfolio/portal/contract", headers=me)
        assert contract.status_code == 200, contract.text
        [on_a] = [c for c in contract.json()["contracts"] if c["gsrn"] == a_gsrn]
        assert on_a["billing_frequency"] == "monthly" and on_a["payment_model"] == "arrears"
        assert on_a["product"]["name"] and on_a["product"]["prices"]["price_type"] in (
            "spot",
            "fixed",
        )
        assert "contract_id" not in contract.text and "customer_id" not in contract.text

        # Her consumption: each day of January is its hours' sum, the month the days' sum, and
        # the month is what settlement settled.
        consumption = f"/api/settlement/portal/metering-points/{a_gsrn}/consumption"
        days = web.get(consumption, params={"resolution": "day", "date": "2025-01-15"},
                       headers=me)  # fmt: skip
        assert days.status_code == 200, days.text
        by_day = days.json()["current"]
        assert (by_day["from_date"], by_day["to_date"]) == ("2025-01-01", "2025-02-01")
        assert len(by_day["points"]) == 31 and all(p["complete"] for p in by_day["points"])
        assert days.json()["last_year"]["from_date"] == "2024-01-01"
        for k, point in enumerate(by_day["points"]):
            day = date(2025, 1, 1) + timedelta(days=k)
            hours = web.get(consumption, params={"resolution": "hour", "date": day.isoformat()},
                            headers=me).json()["current"]  # fmt: skip
            assert len(hours["points"]) == 24
            assert D(point["kwh"]) == _sum(hours["points"]) == D(hours["total_kwh"]), day
        assert _sum(by_day["points"]) == D(by_day["total_kwh"])
        months = web.get(consumption, params={"resolution": "month", "date": "2025-01-01"},
                         headers=me).json()["current"]  # fmt: skip
        assert len(months["points"]) == 12
        assert D(months["points"][0]["kwh"]) == D(by_day["total_kwh"])
        assert D(by_day["total_kwh"]) == D(settled[a_gsrn]["consumption_kwh"])

        # Spot prices of her price area, as settlement stored them.
        area = my_points[a_gsrn]["price_area"]
        spot = web.get("/api/settlement/portal/spot-prices", params={"date": "2025-01-15"},
                       headers=me)  # fmt: skip
        assert spot.status_code == 200, spot.text
        [mine_area] = [x for x in spot.json()["areas"] if a_gsrn in x["gsrns"]]
        assert mine_area["price_area"] == area and len(mine_area["prices"]) == 24
        stored = api.get(
            "/api/settlement/spot-prices",
            params={"price_area": area, "from": "2025-01-15", "to": "2025-01-15"},
        )
        assert [D(p["dkk_per_kwh"]) for p in mine_area["prices"]] == [
            D(p["dkk_per_kwh"]) for p in stored.json()["prices"]
        ]  # fmt: skip

        # Her invoice, its lines, its PDF; her payment and balance.
        listed = web.get("/api/invoicing/portal/invoices", headers=me)
        assert listed.status_code == 200, listed.text
        [summary] = [d for d in listed.json()["items"] if d["number"] == mine["number"]]
        assert D(summary["total"]) == D(mine["total"]) == D(settled[a_gsrn]["total"])
        assert summary["due_date"] == mine["due_date"] and summary["status"] == "partly_paid"
        assert D(summary["outstanding"]) == D(mine["amount_due"]) - D("100.00")
        assert theirs["number"] not in listed.text
        detail = web.get(f"/api/invoicing/portal/invoices/{mine['number']}", headers=me).json()
        assert sum(D(ln["amount"]) for ln in detail["lines"]) == D(mine["subtotal"])
        assert {ln["gsrn"] for ln in detail["lines"]} == {a_gsrn}
        pdf = web.get(f"/api/invoicing/portal/invoices/{mine['number']}/pdf", headers=me)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        paid = web.get("/api/invoicing/portal/payments", headers=me)
        assert paid.status_code == 200, paid.text
        assert D(paid.json()["balance"]) == D(mine["amount_due"]) - D("100.00")
        assert [(p["amount"], p["pays"]) for p in paid.json()["payments"]] == [
            ("100.00", [{"number": mine["number"], "amount": "100.00"}])
        ]

        # Bo's metering point and invoice are not hers: 404, nothing of his shown.
        other = web.get(f"/api/settlement/portal/metering-points/{b_gsrn}/consumption",
                        params={"resolution": "day", "date": "2025-01-15"}, headers=me)  # fmt: skip
        assert other.status_code == 404 and "kwh" not in other.text
        for path in (f"/invoices/{theirs['number']}", f"/invoices/{theirs['number']}/pdf"):
            refused = web.get(f"/api/invoicing/portal{path}", headers=me)
            assert refused.status_code == 404, (path, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
        # Her token reaches no back-office route; an admin key reaches no portal route.
        assert web.get(f"/api/customers/{anna}", headers=me).status_code == 403
        assert web.get(f"/api/invoices/{mine['invoice_id']}", headers=me).status_code == 403
        for prefix, rest in zip(PORTAL, ("/metering-points", "/spot-prices?date=2025-01-15",
                                         "/invoices"), strict=True):  # fmt: skip
            assert api.get(prefix + rest).status_code == 403, prefix

        # Every portal route is in the gateway's one OpenAPI document.
        documented = web.get("/schema/openapi.json").json()["paths"]
        assert {path for path in documented if "/portal/" in path} == {
            "/api/portfolio/portal/metering-points",
            "/api/portfolio/portal/contract",
            "/api/settlement/portal/metering-points/{gsrn}/consumption",
            "/api/settlement/portal/spot-prices",
            "/api/invoicing/portal/invoices",
            "/api/invoicing/portal/invoices/{number}",
            "/api/invoicing/portal/invoices/{number}/pdf",
            "/api/invoicing/portal/payments",
        }

        # Revoked: 401 at once. Expired: 401.
        revoked = api.delete(f"/api/portal-tokens/{token['token_id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked"] is True
        assert web.get("/api/invoicing/portal/invoices", headers=me).status_code == 401
        second = api.post("/api/portal-tokens", json={"customer_id": anna}).json()
        again = {"Authorization": f"Bearer {second['token']}"}
        assert web.get("/api/invoicing/portal/invoices", headers=again).status_code == 200
        _expire(system, second["token_id"])
        expired = web.get("/api/invoicing/portal/invoices", headers=again)
        assert expired.status_code == 401, expired.text
        assert expired.headers["content-type"].startswith("application/problem+json")


def _expire(system: System, token_id: str) -> None:
    """Its expiry moved into the past (a token lives at least a minute: not waited for)."""

    async def run() -> None:
        conn = await asyncpg.connect(system.admin_dsn)
        try:
            done = await conn.execute(
                "UPDATE gateway.portal_tokens SET issued_at = now() - interval '2 minutes', "
                "expires_at = now() - interval '1 second' WHERE token_id = $1::uuid",
                token_id,
            )
            assert done == "UPDATE 1", done
        finally:
            await conn.close()

    asyncio.run(run())
