"""Given settled periods and corrections from settlement, when cycles close, then invoices and
credit notes bill them to the øre, numbered without gaps, booked, announced and served."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from wattline_contracts.portfolio import CustomerOffboardedV1
from wattline_invoicing.adapters import invoices as invoice_store
from wattline_invoicing.domain import fik
from wattline_invoicing.domain.cycles import parse
from wattline_invoicing.handlers import issuing
from wattline_invoicing.jobs import billing

D = Decimal
GSRN = "571313180400000028"


def gsrn(n: int) -> str:
    return f"5713131804{n:08d}"


def march(result: dict[str, Any]) -> dict[str, Any]:
    """January's result again for March (31 days too): a third month of real figures."""
    return {**result, "period": {"start": "2025-03-01", "end": "2025-04-01"}}


async def a_settled_quarter(
    rig: Any, golden: Any, point: str = GSRN, **contract: Any
) -> tuple[str, list[str]]:
    customer = await rig.customer(point, start=date(2025, 1, 1), **contract)
    february = rig.negated(golden("GM06")["documents"][1])  # GM06 credits it: the original
    ids = [
        await rig.settle(point, customer, golden("GM01")),
        await rig.settle(point, customer, february),
        await rig.settle(point, customer, march(golden("GM01"))),
    ]
    return customer, ids


async def test_a_quarter_of_settlements_is_one_invoice_that_sums_them_to_the_ore(
    rig: Any, golden: Any
) -> None:
    customer, ids = await a_settled_quarter(rig, golden)
    rig.clock.set_today(date(2025, 4, 6))  # Sunday: 5 days after the quarter, not yet
    assert await billing.run_once(rig.inv) == 0
    rig.clock.set_today(date(2025, 4, 7))
    assert await billing.run_once(rig.inv) == 1
    assert await billing.run_once(rig.inv) == 0  # nothing is billed twice

    page = (await rig.client.get("/api/invoices", params={"customer": customer})).json()
    [summary] = page["items"]
    assert page["next"] is None
    # 779.19 (January) + 714.43 (February) + 779.19 (March)
    fields = ("number", "kind", "status", "cycle", "subtotal", "vat", "total", "amount_due")
    assert {k: summary[k] for k in fields} == {
        "number": "2025-00001", "kind": "invoice", "status": "issued", "cycle": "2025-Q1",
        "subtotal": "1818.24", "vat": "454.57", "total": "2272.81", "amount_due": "2272.81",
    }  # fmt: skip
    assert (summary["issue_date"], summary["due_date"]) == ("2025-04-07", "2025-04-22")  # Easter
    assert fik.is_valid(summary["fi_payment_id"])

    detail = (await rig.client.get(f"/api/invoices/{summary['invoice_id']}")).json()
    assert len(detail["lines"]) == 24 and {ln["source_id"] for ln in detail["lines"]} == set(ids)
    assert sum(D(ln["amount"]) for ln in detail["lines"]) == D("1818.24")
    assert sum(D(ln["vat"]) for ln in detail["lines"]) == D("454.57")
    assert detail["fi_code_line"] == f"+71<{summary['fi_payment_id']}+81234567<"
    assert detail["account_number"] == 100001

    [event] = await rig.events("invoicing.invoice.issued")
    assert event["number"] == "2025-00001" and event["net_amount_due"] == "2272.81"
    assert sorted(b["source_id"] for b in event["billed"]) == sorted(ids)
    assert event["pass_through"]["elafgift"] == "9.50"  # 3.27 + 2.96 + 3.27
    account = (await rig.client.get(f"/api/billing-accounts/{customer}")).json()
    assert account["balance"] == "2272.81" and account["ledger"][0]["reference"] == "2025-00001"

    erp = (await rig.client.get("/api/erp/invoices")).json()
    assert [d["document"]["number"] for d in erp["items"]] == ["2025-00001"]
    assert erp["items"][0]["document"] == event  # the feed serves what the event carried
    again = (await rig.client.get("/api/erp/invoices", params={"since": erp["next"]})).json()
    assert again == {"items": [], "next": erp["next"]}


async def test_a_correction_of_an_invoiced_month_is_a_linked_credit_note(
    rig: Any, golden: Any
) -> None:
    customer, ids = await a_settled_quarter(rig, golden)
    rig.clock.set_today(date(2025, 4, 7))
    await billing.run_once(rig.inv)
    delta = golden("GM09")  # 16-31 Jan corrected: -0.43
    await rig.correct(ids[0], GSRN, customer, delta)
    await rig.correct(ids[0], GSRN, customer, golden("GM05"))  # and again: +0.91
    rig.clock.set_today(date(2025, 4, 8))
    assert await billing.run_once(rig.inv) == 1
    docs = (await rig.client.get("/api/invoices")).json()["items"]
    assert [d["number"] for d in docs] == ["2025-00001", "2025-00002"]
    # -0.43 + 0.91 = +0.48: the corrections add up to more, a supplementary invoice
    assert (docs[1]["kind"], docs[1]["total"], docs[1]["corrects_invoice_id"]) == (
        "invoice",
        "0.48",
        docs[0]["invoice_id"],
    )
    await rig.correct(ids[1], GSRN, customer, golden("GM09"))
    assert await billing.run_once(rig.inv) == 1
    [note] = await rig.events("invoicing.credit_note.issued")
    assert (note["number"], note["total"], note["corrects_number"]) == (
        "K2025-00001",
        "-0.43",
        "2025-00001",
    )
    account = (await rig.client.get(f"/api/billing-accounts/{customer}")).json()
    assert account["balance"] == str(D("2272.81") + D("0.48") - D("0.43"))


async def test_a_correction_that_only_moves_money_between_charges_bills_nothing(
    rig: Any, golden: Any
) -> None:
    customer, ids = await a_settled_quarter(rig, golden)
    rig.clock.set_today(date(2025, 4, 7))
    assert await billing.run_once(rig.inv) == 1
    delta = golden("GM09")  # its lines, every amount 0.00: one tariff up, another down
    zero = {
        **delta,
        "lines": [{**line, "amount": "0.00"} for line in delta["lines"]],
        "subtotal": "0.00",
        "vat": "0.00",
        "total": "0.00",
    }
    await rig.correct(ids[0], GSRN, customer, zero)
    rig.clock.set_today(date(2025, 4, 8))
    assert await billing.run_once(rig.inv) == 0  # no 0.00 credit note or supplementary invoice
    docs = (await rig.client.get("/api/invoices")).json()["items"]
    assert [d["number"] for d in docs] == ["2025-00001"]
    await rig.correct(ids[0], GSRN, customer, delta)  # a real one after it is billed as ever
    assert await billing.run_once(rig.inv) == 1
    [note] = await rig.events("invoicing.credit_note.issued")
    assert note["total"] == "-0.43"


async def test_an_erroneous_switch_credits_the_invoice_in_full(rig: Any, golden: Any) -> None:
    customer = await rig.customer(GSRN, start=date(2025, 1, 1), frequency="monthly")
    gm06 = golden("GM06")
    january = await rig.settle(GSRN, customer, rig.negated(gm06["documents"][0]))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 1
    await rig.correct(
        january,
        GSRN,
        customer,
        {**gm06["documents"][0], "period": gm06["documents"][0]["period"]},
        "erroneous_switch",
    )
    assert await billing.run_once(rig.inv) == 1
    docs = {d["number"]: d for d in (await rig.client.get("/api/invoices")).json()["items"]}
    assert (docs["2025-00001"]["status"], docs["2025-00001"]["total"]) == ("credited", "779.19")
    assert (docs["K2025-00001"]["kind"], docs["K2025-00001"]["total"]) == ("credit_note", "-779.19")
    account = (await rig.client.get(f"/api/billing-accounts/{customer}")).json()
    assert account["balance"] == "0.00"


async def test_two_hundred_invoices_issued_at_once_take_consecutive_numbers(
    rig: Any, golden: Any
) -> None:
    accounts = []
    for n in range(200):
        customer = await rig.customer(gsrn(n), start=date(2025, 1, 1), frequency="monthly")
        await rig.settle(gsrn(n), customer, golden("GM01"))
        accounts.append(customer)
    cycle, today = parse("2025-01"), date(2025, 2, 10)

    real_book = invoice_store.book_many
    failed: list[str] = []

    async def book_failing_once(tx: Any, entries: Any) -> None:
        if not failed and entries[0][0] == accounts[17]:
            failed.append(entries[0][2])  # after the number was taken
            raise RuntimeError("crash after the number was drawn")
        await real_book(tx, entries)

    invoice_store.book_many = book_failing_once  # type: ignore[assignment]
    try:
        results = await asyncio.gather(
            *(issuing.issue_cycle_invoice(rig.inv, a, cycle, today) for a in accounts),
            return_exceptions=True,
        )
    finally:
        invoice_store.book_many = real_book  # type: ignore[assignment]
    assert sum(isinstance(r, RuntimeError) for r in results) == 1 and failed
    # The failed one is billed by the next pass, with the number its rollback gave back.
    assert len(await issuing.close_cycle(rig.inv, cycle, today)) == 1
    numbers = await rig.inv.service.database.fetch("SELECT seq, number FROM invoice ORDER BY seq")
    assert [r["seq"] for r in numbers] == list(range(1, 201))
    assert numbers[-1]["number"] == "2025-00200"
    assert (
        await rig.inv.service.database.fetchval(
            "SELECT count(DISTINCT source_id) FROM invoice_line"
        )
        == 200
    )


async def test_the_aconto_golden_cases_through_the_service(rig: Any, golden: Any) -> None:
    """GM03: January prepaid 700.00, February's prepayment 800.00 -> 879.19 to pay.
    GM04: 16-31 January prepaid 300.00, moved out 1 February -> 102.16 to pay, no next."""
    quarterly = await rig.customer(
        gsrn(1), start=date(2025, 1, 1), frequency="monthly", model="aconto"
    )
    leaving = await rig.customer(
        gsrn(2), start=date(2025, 1, 16), frequency="monthly", model="aconto"
    )
    for account, cycle, amount in (
        (quarterly, "2025-01", "700.00"),
        (quarterly, "2025-02", "800.00"),
        (leaving, "2025-01", "300.00"),
    ):
        answer = await rig.client.put(
            f"/api/billing-accounts/{account}/prepayments/{cycle}", json={"amount": amount}
        )
        assert answer.status_code == 200, answer.text
    rig.clock.set_today(date(2025, 1, 16))
    assert await billing.run_once(rig.inv) == 2  # the first prepayments
    refused = await rig.client.put(
        f"/api/billing-accounts/{quarterly}/prepayments/2025-01", json={"amount": "1.00"}
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/prepayment-billed")

    await rig.settle(gsrn(1), quarterly, golden("GM03"))
    await rig.settle(gsrn(2), leaving, golden("GM04"))
    await rig.deliver(
        CustomerOffboardedV1(
            customer_id=leaving,
            gsrn=gsrn(2),
            supply_period_id="sp",
            end_date=date(2025, 2, 1),
            reason="move_out",
        )
    )
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 2
    by_account = {}
    for doc in (await rig.client.get("/api/invoices", params={"cycle": "2025-01"})).json()["items"]:
        by_account[doc["account_id"]] = doc
    gm03, gm04 = golden("GM03")["aconto"], golden("GM04")["aconto"]
    fields = ("total", "aconto_paid", "difference", "next_prepayment", "amount_due")
    assert {k: by_account[quarterly][k] for k in fields} == {
        "total": "779.19", "aconto_paid": gm03["paid"], "difference": gm03["difference"],
        "next_prepayment": gm03["next_prepayment"], "amount_due": gm03["amount_due"],
    }  # fmt: skip
    assert {k: by_account[leaving][k] for k in fields} == {
        "total": "402.16", "aconto_paid": gm04["paid"], "difference": gm04["difference"],
        "next_prepayment": gm04["next_prepayment"], "amount_due": gm04["amount_due"],
    }  # fmt: skip
    ledger = (await rig.client.get(f"/api/billing-accounts/{quarterly}")).json()["ledger"]
    # (The unpaid January prepayment is in dunning by now: its fee and interest are apart.)
    assert [e["amount"] for e in ledger if e["kind"] == "invoice"] == ["700.00", "879.19"]


async def test_a_move_out_mid_quarter_gets_its_final_settlement_at_once_with_money_back(
    rig: Any, golden: Any
) -> None:
    """Seed 000 A4: a quarterly aconto payer moves out on 1 February; January is settled; the
    final settlement of the part quarter comes as soon as January is in, not in April."""
    customer = await rig.customer(GSRN, start=date(2025, 1, 1), model="aconto")
    await rig.client.put(
        f"/api/billing-accounts/{customer}/prepayments/2025-Q1", json={"amount": "1500.00"}
    )
    rig.clock.set_today(date(2025, 1, 2))
    assert await billing.run_once(rig.inv) == 1
    await rig.deliver(
        CustomerOffboardedV1(
            customer_id=customer,
            gsrn=GSRN,
            supply_period_id="sp",
            end_date=date(2025, 2, 1),
            reason="move_out",
        )
    )
    await rig.settle(GSRN, customer, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 1
    final = (await rig.client.get("/api/invoices", params={"cycle": "2025-Q1"})).json()["items"][0]
    assert (
        final["total"],
        final["aconto_paid"],
        final["next_prepayment"],
        final["amount_due"],
    ) == ("779.19", "1500.00", "0.00", "-720.81")
    assert final["fi_payment_id"] is None  # nothing to pay: money back
    ledger = (await rig.client.get(f"/api/billing-accounts/{customer}")).json()["ledger"]
    billed = [D(e["amount"]) for e in ledger if e["kind"] == "invoice"]
    assert billed == [D("1500.00"), D("-720.81")]  # together what was consumed: 779.19


async def test_a_continuing_aconto_payer_is_billed_the_estimated_next_quarter(
    rig: Any, golden: Any
) -> None:
    await a_settled_quarter(rig, golden, model="aconto")
    rig.clock.set_today(date(2025, 4, 7))
    assert await billing.run_once(rig.inv) == 1
    [doc] = (await rig.client.get("/api/invoices")).json()["items"]
    # Q1 settled 1188.0 kWh; per-kWh lines 535.35 + 483.54 + 535.35, subscriptions 88 + 88 + 88.
    # No Q2 a year ago: the default 4000 kWh a year -> 1000 kWh.
    per_kwh = (D("535.35") + D("483.54") + D("535.35")) / D("1188.000")
    expected = ((D(1000) * per_kwh + D("88.00") * 3) * D("1.25")).quantize(D("0.01"))
    assert D(doc["next_prepayment"]) == expected == D("1965.35")
    assert D(doc["amount_due"]) == D("2272.81") + expected


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/api/invoices?cycle=2025-Q5", 400, "invalid-cycle"),
        ("/api/invoices?after=bm90LWEtY3Vyc29y", 400, "invalid-cursor"),
        ("/api/invoices?limit=0", 400, None),
        ("/api/invoices/not-a-uuid", 404, "invoice-not-found"),
        ("/api/invoices/00000000-0000-0000-0000-000000000000", 404, "invoice-not-found"),
        ("/api/billing-accounts/nobody", 404, "billing-account-not-found"),
        ("/api/erp/invoices?since=%00", 400, None),  # no NUL in any text parameter
        ("/api/erp/invoices?since=cDEyYQ", 400, "invalid-cursor"),
        ("/api/invoices?account=a%00b", 400, None),
        ("/api/billing-accounts/a%00b", 400, "invalid-character"),
    ],
)
async def test_bad_requests_are_problems(
    rig: Any, path: str, status: int, kind: str | None
) -> None:
    answer = await rig.client.get(path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if kind:
        assert answer.json()["type"].endswith(f"/{kind}")


async def test_a_cycle_closes_only_once_it_has_ended(rig: Any) -> None:
    rig.clock.set_today(date(2025, 3, 31))
    early = await rig.client.post("/api/invoices/cycles/2025-Q1/close")
    assert early.status_code == 409 and early.json()["type"].endswith("/cycle-not-ended")
    rig.clock.set_today(date(2025, 4, 1))
    done = await rig.client.post("/api/invoices/cycles/2025-Q1/close")
    assert done.status_code == 200 and done.json() == {"cycle": "2025-Q1", "issued": []}
    bad = await rig.client.put("/api/billing-accounts/x/prepayments/2025-Q1", json={"amount": "-1"})
    assert bad.status_code == 400


async def test_a_rolled_back_aconto_contract_is_never_billed(rig: Any) -> None:
    """BRS-003 by the previous supplier: the contract ends on the day it started."""
    from wattline_contracts.portfolio import ContractChangedV1

    customer = await rig.customer(GSRN, start=date(2025, 1, 10), model="aconto")
    [contract_id] = [
        r["contract_id"]
        for r in await rig.inv.service.database.fetch("SELECT contract_id FROM contract")
    ]
    await rig.deliver(ContractChangedV1(
        contract_id=contract_id, gsrn=GSRN, customer_id=customer, product_id="spot-basic",
        product_version=1, start_date=date(2025, 1, 10), end_date=date(2025, 1, 10),
        billing_frequency="quarterly", payment_model="aconto",
    ))  # fmt: skip
    rig.clock.set_today(date(2025, 1, 11))
    assert await billing.run_once(rig.inv) == 0  # no prepayment for a supply that never was


async def test_an_invoices_log_line_names_the_settlements_it_billed(rig: Any, golden: Any) -> None:
    from structlog.testing import capture_logs

    # Given a quarter settled in three settlements (779.19 + 714.43 + 779.19)
    _, ids = await a_settled_quarter(rig, golden)
    rig.clock.set_today(date(2025, 4, 7))
    # When the quarter's invoice is issued
    with capture_logs() as logs:
        assert await billing.run_once(rig.inv) == 1
    # Then its line names its number with the three settlement ids, so grep of a settlement_id
    # (named in settlement's settlement_settled line with its DataHub messages) finds it
    [issued] = [e for e in logs if e["event"] == "invoice_issued"]
    assert (issued["number"], issued["kind"]) == ("2025-00001", "invoice")
    assert sorted(issued["settlement_ids"]) == sorted(ids) and issued["correction_ids"] == []
