"""The customer portal through the gateway: two customers of ours (the go-live import), a month
of DataHub's data from the simulator, January settled and invoiced; a portal token for one of
them reads its metering points, contract, consumption (days and the month summing the hours to
the Wh), spot prices, invoice with its lines and PDF, payments and balance, and nothing of the
other's (404); an admin key is refused the portal (403), a revoked or expired token too (401).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from scenario import Scenario, eventually, started

D = Decimal
PORTAL = ("/api/portfolio/portal", "/api/settlement/portal", "/api/invoicing/portal")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A system of its own: the test moves its market clock a month ahead and closes January's
    monthly cycle, which the session's system (quarterly aconto contracts by default, its clock
    shared with the onboarding tests) should not have done to it."""
    yield from started(
        tmp_path_factory.mktemp("wattline-portal"),
        {
            "WATTLINE_INVOICING_JOB_INTERVAL_S": "1",
            "WATTLINE_PORTFOLIO_BILLING_FREQUENCY": "monthly",
            "WATTLINE_PORTFOLIO_PAYMENT_MODEL": "arrears",
        },
    )


def _sum(points: list[dict[str, Any]]) -> Decimal:
    return sum((D(p["kwh"]) for p in points if p["kwh"] is not None), D("0.000"))


async def test_two_customers_each_see_only_their_own(system: Scenario, tmp_path: Path) -> None:
    # Given two customers of ours from the go-live import
    await system.given_the_go_live_import(
        metering_points=9, seed=5, ours_share="0.34", customers=1, cwd=tmp_path
    )
    owners = await eventually(system.given_customers_by_point, lambda o: len(o) >= 2)
    gsrns = sorted(owners)
    await system.given_settlement_knows(gsrns)

    # and January's data, spot prices, the settlement run and the monthly cycle's invoices
    await system.when_an_operator_moves_the_clock("2025-02-03T00:00:00+00:00", cwd=tmp_path)
    await system.when_spot_prices_are_imported("2025-01-01", "2025-01-31")
    await system.when_an_operator_runs_settlement("2025-01", cwd=tmp_path)
    settled = {}
    for gsrn in gsrns:
        [january] = await system.then_settlements_of(gsrn, "2025-01")
        settled[gsrn] = january
    await system.when_the_invoice_cycle_closes("2025-01")
    invoice_of: dict[str, dict[str, Any]] = {}  # customer id -> back office's invoice
    for detail in await system.then_invoices_of_cycle("2025-01"):
        if detail["account_id"] in owners.values():  # the customer pays it themselves
            invoice_of[detail["account_id"]] = detail
    paying = [g for g in gsrns if owners[g] in invoice_of]
    assert len(paying) >= 2, (owners, list(invoice_of))
    a_gsrn, b_gsrn = paying[:2]
    anna, bo = owners[a_gsrn], owners[b_gsrn]
    assert anna != bo
    mine, theirs = invoice_of[anna], invoice_of[bo]

    async with system.api() as api, system.web() as web:
        # Anna pays part of hers by bank transfer.
        statement = (
            "Entry_ID;Booking_Date;Amount;Reference;Counterparty\r\n"
            f"E1;2025-02-20;100,00;Faktura {mine['number']};Anna\r\n"
        )
        booked = await api.post("/api/payments/bank-statements", content=statement.encode(),
                          headers={"content-type": "text/csv"})  # fmt: skip
        assert booked.status_code == 200 and booked.json()["matched"] == 1, booked.text

        # Back office gives Anna a portal token.
        issued = await api.post("/api/portal-tokens", json={"customer_id": anna})
        assert issued.status_code == 201, issued.text
        token = issued.json()
        me = {"Authorization": f"Bearer {token['token']}"}

        # Her metering points and contract.
        points = await web.get("/api/portfolio/portal/metering-points", headers=me)
        assert points.status_code == 200, points.text
        my_points = {p["gsrn"]: p for p in points.json()["metering_points"]}
        assert a_gsrn in my_points and b_gsrn not in my_points
        assert set(my_points) == {g for g, c in owners.items() if c == anna}
        assert my_points[a_gsrn]["supply"]["supplied_now"] is True
        contract = await web.get("/api/portfolio/portal/contract", headers=me)
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
        days = await web.get(consumption, params={"resolution": "day", "date": "2025-01-15"},
                       headers=me)  # fmt: skip
        assert days.status_code == 200, days.text
        by_day = days.json()["current"]
        assert (by_day["from_date"], by_day["to_date"]) == ("2025-01-01", "2025-02-01")
        assert len(by_day["points"]) == 31 and all(p["complete"] for p in by_day["points"])
        assert days.json()["last_year"]["from_date"] == "2024-01-01"
        for k, point in enumerate(by_day["points"]):
            day = date(2025, 1, 1) + timedelta(days=k)
            by_hour = {"resolution": "hour", "date": day.isoformat()}
            hours = (await web.get(consumption, params=by_hour, headers=me)).json()["current"]
            assert len(hours["points"]) == 24
            assert D(point["kwh"]) == _sum(hours["points"]) == D(hours["total_kwh"]), day
        assert _sum(by_day["points"]) == D(by_day["total_kwh"])
        months = (await web.get(consumption, params={"resolution": "month", "date": "2025-01-01"},
                         headers=me)).json()["current"]  # fmt: skip
        assert len(months["points"]) == 12
        assert D(months["points"][0]["kwh"]) == D(by_day["total_kwh"])
        assert D(by_day["total_kwh"]) == D(settled[a_gsrn]["consumption_kwh"])

        # Spot prices of her price area, as settlement stored them.
        area = my_points[a_gsrn]["price_area"]
        spot = await web.get("/api/settlement/portal/spot-prices", params={"date": "2025-01-15"},
                       headers=me)  # fmt: skip
        assert spot.status_code == 200, spot.text
        [mine_area] = [x for x in spot.json()["areas"] if a_gsrn in x["gsrns"]]
        assert mine_area["price_area"] == area and len(mine_area["prices"]) == 24
        stored = await api.get(
            "/api/settlement/spot-prices",
            params={"price_area": area, "from": "2025-01-15", "to": "2025-01-15"},
        )
        assert [D(p["dkk_per_kwh"]) for p in mine_area["prices"]] == [
            D(p["dkk_per_kwh"]) for p in stored.json()["prices"]
        ]  # fmt: skip

        # Her invoice, its lines, its PDF; her payment and balance.
        listed = await web.get("/api/invoicing/portal/invoices", headers=me)
        assert listed.status_code == 200, listed.text
        [summary] = [d for d in listed.json()["items"] if d["number"] == mine["number"]]
        assert D(summary["total"]) == D(mine["total"]) == D(settled[a_gsrn]["total"])
        assert summary["due_date"] == mine["due_date"] and summary["status"] == "partly_paid"
        assert D(summary["outstanding"]) == D(mine["amount_due"]) - D("100.00")
        assert theirs["number"] not in listed.text
        detail = (
            await web.get(f"/api/invoicing/portal/invoices/{mine['number']}", headers=me)
        ).json()
        assert sum(D(ln["amount"]) for ln in detail["lines"]) == D(mine["subtotal"])
        assert {ln["gsrn"] for ln in detail["lines"]} == {a_gsrn}
        pdf = await web.get(f"/api/invoicing/portal/invoices/{mine['number']}/pdf", headers=me)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        paid = await web.get("/api/invoicing/portal/payments", headers=me)
        assert paid.status_code == 200, paid.text
        assert D(paid.json()["balance"]) == D(mine["amount_due"]) - D("100.00")
        assert [(p["amount"], p["pays"]) for p in paid.json()["payments"]] == [
            ("100.00", [{"number": mine["number"], "amount": "100.00"}])
        ]

        # Bo's metering point and invoice are not hers: 404, nothing of his shown.
        other = await web.get(f"/api/settlement/portal/metering-points/{b_gsrn}/consumption",
                        params={"resolution": "day", "date": "2025-01-15"}, headers=me)  # fmt: skip
        assert other.status_code == 404 and "kwh" not in other.text
        for path in (f"/invoices/{theirs['number']}", f"/invoices/{theirs['number']}/pdf"):
            refused = await web.get(f"/api/invoicing/portal{path}", headers=me)
            assert refused.status_code == 404, (path, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
        # Her token reaches no back-office route; an admin key reaches no portal route.
        assert (await web.get(f"/api/customers/{anna}", headers=me)).status_code == 403
        assert (await web.get(f"/api/invoices/{mine['invoice_id']}", headers=me)).status_code == 403
        for prefix, rest in zip(PORTAL, ("/metering-points", "/spot-prices?date=2025-01-15",
                                         "/invoices"), strict=True):  # fmt: skip
            assert (await api.get(prefix + rest)).status_code == 403, prefix

        # Every portal route is in the gateway's one OpenAPI document.
        documented = (await web.get("/schema/openapi.json")).json()["paths"]
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
        revoked = await api.delete(f"/api/portal-tokens/{token['token_id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked"] is True
        assert (await web.get("/api/invoicing/portal/invoices", headers=me)).status_code == 401
        second = (await api.post("/api/portal-tokens", json={"customer_id": anna})).json()
        again = {"Authorization": f"Bearer {second['token']}"}
        assert (await web.get("/api/invoicing/portal/invoices", headers=again)).status_code == 200
        await _expire(system, second["token_id"])
        expired = await web.get("/api/invoicing/portal/invoices", headers=again)
        assert expired.status_code == 401, expired.text
        assert expired.headers["content-type"].startswith("application/problem+json")


async def _expire(system: Scenario, token_id: str) -> None:
    """Its expiry moved into the past (a token lives at least a minute: not waited for)."""
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
