"""Given an invoice nobody pays, when the days pass, then dunning follows the policy on the
Danish business-day calendar within renteloven: overdue, three reminders 10+ days apart with
a fee of 100 kr each and the interest of the days since, then debt collection. A dispute
stops it; a payment ends it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from wattline_invoicing.domain import dunning as rules
from wattline_invoicing.jobs import billing
from wattline_platform.business_days import is_business_day

D = Decimal


def test_a_policy_outside_renteloven_is_refused() -> None:
    with pytest.raises(rules.PolicyOutsideTheLaw, match="100 kr"):
        rules.Policy(reminder_fee=D("100.01"))
    with pytest.raises(rules.PolicyOutsideTheLaw, match="10 days"):
        rules.Policy(reminder_interval_days=9)
    assert rules.Policy(reminders=4).fee_for(4) == D("0.00")  # only three bear a fee


def test_interest_is_the_reference_rate_plus_8_points_per_day() -> None:
    rates = [rules.Rate(date(2025, 1, 1), D("0.03")), rules.Rate(date(2025, 3, 15), D("0.02"))]
    # 779.19 x 11 % x 6 / 365 = 1.40895...
    assert rules.interest(D("779.19"), date(2025, 2, 21), date(2025, 2, 27), rates) == D("1.41")
    # 5 days at 11 % and 5 at 10 %: 779.19 x 1.05 / 365 = 2.2415...
    assert rules.interest(D("779.19"), date(2025, 3, 10), date(2025, 3, 20), rates) == D("2.24")
    with pytest.raises(ValueError, match="no reference rate"):
        rules.interest(D("1.00"), date(2024, 12, 30), date(2025, 1, 2), rates)


def test_overdue_counts_business_days() -> None:
    # Due Friday 21 Feb 2025: 3 business days of grace (24, 25, 26), overdue Thursday 27.
    assert rules.overdue_on(date(2025, 2, 21), 3, is_business_day) == date(2025, 2, 27)
    # Due Thursday 17 April 2025 (Maundy Thursday): 22, 23, 24 April; overdue Friday 25.
    assert rules.overdue_on(date(2025, 4, 17), 3, is_business_day) == date(2025, 4, 25)


async def an_unpaid_invoice(rig: Any, golden: Any, n: int = 0) -> dict[str, Any]:
    gsrn = f"57131318040000001{n}"
    customer = await rig.customer(gsrn, start=date(2025, 1, 1), frequency="monthly")
    await rig.settle(gsrn, customer, golden("GM01"))
    return {"customer": customer}


async def test_a_reminder_sequence_day_by_day(rig: Any, golden: Any) -> None:
    await an_unpaid_invoice(rig, golden, 0)
    await an_unpaid_invoice(rig, golden, 1)
    for valid_from, rate in (("2025-01-01", "0.03"), ("2025-03-15", "0.02")):
        answer = await rig.client.put(
            f"/api/dunning/reference-rates/{valid_from}", json={"rate": rate}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"valid_from": valid_from, "rate": rate}
    # More places than numeric(8, 6) keeps would round to 1.000000, past the rate's bound.
    too_fine = await rig.client.put(
        "/api/dunning/reference-rates/2025-04-01", json={"rate": 0.9999999999999999}
    )
    assert too_fine.status_code == 400, too_fine.text
    assert too_fine.headers["content-type"] == "application/problem+json"
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 2
    docs = (await rig.client.get("/api/invoices")).json()["items"]
    assert [d["due_date"] for d in docs] == ["2025-02-21", "2025-02-21"]
    paid, unpaid = docs
    disputed = await rig.client.post(
        f"/api/invoices/{paid['invoice_id']}/dispute", json={"reason": "måleren er forkert"}
    )
    assert disputed.status_code == 200 and disputed.json()["disputed"] is True

    steps: list[tuple[str, str]] = []
    day = date(2025, 2, 8)
    while day <= date(2025, 4, 30):
        rig.clock.set_today(day)
        before = len(await rig.events("invoicing.reminder.sent")) + len(
            await rig.events("invoicing.payment.overdue")
        )
        await billing.run_once(rig.inv)
        after = len(await rig.events("invoicing.reminder.sent")) + len(
            await rig.events("invoicing.payment.overdue")
        )
        if after > before:
            steps.append((day.isoformat(), day.strftime("%a")))
        day += timedelta(days=1)
    # Overdue and the first reminder Thursday 27 Feb; then 10 days on: Sunday 9 March ->
    # Monday 10; 20 March (Thursday); collection 10 days on: Sunday 30 -> Monday 31 March.
    assert steps == [("2025-02-27", "Thu"), ("2025-03-10", "Mon"), ("2025-03-20", "Thu")]
    reminders = await rig.events("invoicing.reminder.sent")
    assert [(r["reminder"], r["sent_on"], r["fee"], r["interest"]) for r in reminders] == [
        (1, "2025-02-27", "100.00", "1.41"),  # 6 days at 11 %
        (2, "2025-03-10", "100.00", "2.58"),  # 11 days at 11 %
        (3, "2025-03-20", "100.00", "2.24"),  # 5 days at 11 %, 5 at 10 %
    ]
    assert all(r["invoice_id"] == unpaid["invoice_id"] for r in reminders)  # the dispute stops
    # Both became overdue on 27 February (a dispute stops the reminders, not the due date).
    overdue = await rig.events("invoicing.payment.overdue")
    assert sorted((o["number"], o["overdue_on"], o["outstanding"]) for o in overdue) == [
        (paid["number"], "2025-02-27", "779.19"),
        (unpaid["number"], "2025-02-27", "779.19"),
    ]
    claims = (await rig.client.get("/api/dunning/collection")).json()
    assert [
        (c["number"], c["handed_off_on"], c["fees"], c["interest"], c["reminders"]) for c in claims
    ] == [(unpaid["number"], "2025-03-31", "300.00", "6.23", 3)]
    export = await rig.client.get("/api/dunning/collection.csv")
    assert export.headers["content-type"].startswith("text/csv")
    payer = (await rig.client.get(f"/api/invoices/{unpaid['invoice_id']}")).json()["account_number"]
    assert export.text.splitlines()[1].startswith(
        f"{unpaid['number']},{payer},2025-02-07,2025-02-21,779.19,779.19,300.00,6.23,3,2025-03-31"
    )
    account = (await rig.client.get(f"/api/billing-accounts/{unpaid['account_id']}")).json()
    assert account["balance"] == "1085.42"  # 779.19 + 3 x 100 + 1.41 + 2.58 + 2.24

    # The dispute resolved: dunning of the other invoice goes on from where it stood.
    await rig.client.delete(f"/api/invoices/{paid['invoice_id']}/dispute")
    rig.clock.set_today(date(2025, 5, 2))
    await billing.run_once(rig.inv)
    assert (await rig.events("invoicing.reminder.sent"))[-1]["invoice_id"] == paid["invoice_id"]


async def test_a_paid_invoice_is_not_reminded(rig: Any, golden: Any) -> None:
    await an_unpaid_invoice(rig, golden)
    rig.clock.set_today(date(2025, 2, 7))
    await billing.run_once(rig.inv)
    [doc] = (await rig.client.get("/api/invoices")).json()["items"]
    statement = (
        f"entry_id,booking_date,amount,reference\r\nE1,2025-02-26,779.19,{doc['fi_payment_id']}\r\n"
    )
    await rig.client.post(
        "/api/payments/bank-statements",
        content=statement.encode(),
        headers={"content-type": "text/csv"},
    )
    rig.clock.set_today(date(2025, 3, 3))
    await billing.run_once(rig.inv)
    assert await rig.events("invoicing.payment.overdue") == []


async def test_a_payer_whose_credit_covers_the_invoice_is_not_reminded(
    rig: Any, golden: Any
) -> None:
    gsrn = "571313180400000019"
    csv = {"content-type": "text/csv"}
    customer = await rig.customer(gsrn, start=date(2025, 1, 1), frequency="monthly")
    await rig.settle(gsrn, customer, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    await billing.run_once(rig.inv)
    [january] = (await rig.client.get("/api/invoices")).json()["items"]
    # January paid 100.00 too much ...
    head = "entry_id,booking_date,amount,reference\r\n"
    paid = f"{head}E1,2025-02-20,879.19,{january['fi_payment_id']}\r\n"
    await rig.client.post("/api/payments/bank-statements", content=paid.encode(), headers=csv)
    february = {**golden("GM01"), "period": {"start": "2025-02-01", "end": "2025-03-01"}}
    await rig.settle(gsrn, customer, february)
    rig.clock.set_today(date(2025, 3, 7))
    await billing.run_once(rig.inv)
    second = (await rig.client.get("/api/invoices")).json()["items"][1]
    # ... and February 100.00 short: the payer owes nothing.
    short = f"{head}E2,2025-03-19,679.19,{second['fi_payment_id']}\r\n"
    await rig.client.post("/api/payments/bank-statements", content=short.encode(), headers=csv)
    assert (await rig.client.get(f"/api/billing-accounts/{customer}")).json()["balance"] == "0.00"
    rig.clock.set_today(date(2025, 4, 30))
    await billing.run_once(rig.inv)
    assert await rig.events("invoicing.reminder.sent") == []


async def test_a_credit_pays_the_oldest_open_invoice_first(rig: Any, golden: Any) -> None:
    gsrn = "571313180400000027"
    customer = await rig.customer(gsrn, start=date(2025, 1, 1), frequency="monthly")
    for month in (1, 2, 3):
        start, end = date(2025, month, 1), date(2025, month + 1, 1)
        period = {"start": start.isoformat(), "end": end.isoformat()}
        await rig.settle(gsrn, customer, {**golden("GM01"), "period": period})
        rig.clock.set_today(date(2025, month + 1, 7))
        await billing.run_once(rig.inv)
        if month == 1:  # January paid 400.00 too much
            [january] = (await rig.client.get("/api/invoices")).json()["items"]
            head = "entry_id,booking_date,amount,reference\r\n"
            paid = f"{head}E1,2025-02-10,1179.19,{january['fi_payment_id']}\r\n"
            csv = {"content-type": "text/csv"}
            await rig.client.post(
                "/api/payments/bank-statements", content=paid.encode(), headers=csv
            )
    rig.clock.set_today(date(2025, 4, 30))
    await billing.run_once(rig.inv)
    overdue = {o["number"]: o["outstanding"] for o in await rig.events("invoicing.payment.overdue")}
    # February is 779.19 - 400.00; March all of it: together what the payer owes.
    assert sorted(overdue.values()) == ["379.19", "779.19"]
