"""The portal's invoicing: given two customers billed for January, a customer's portal token
sees its own invoice (totals, due date, lines, the PDF), its payments and balance, by number;
the other customer's number is 404, back office is refused the portal routes (real Postgres)."""

from __future__ import annotations

import base64
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from wattline_invoicing.handlers import cursors, webhooks
from wattline_invoicing.jobs import billing
from wattline_platform.testing import portal_headers

CSV = {"content-type": "text/csv"}
PORTAL = "/api/invoicing/portal"


async def test_a_customer_sees_its_own_documents_payments_and_balance(
    rig: Any, golden: Any
) -> None:
    anna_gsrn, bo_gsrn = "571313180400000001", "571313180400000002"
    anna = await rig.customer(anna_gsrn, start=date(2025, 1, 1), frequency="monthly")
    bo = await rig.customer(bo_gsrn, start=date(2025, 1, 1), frequency="monthly")
    await rig.settle(anna_gsrn, anna, golden("GM01"))
    await rig.settle(bo_gsrn, bo, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 2
    office = (await rig.client.get("/api/invoices")).json()["items"]
    mine = next(d for d in office if d["account_id"] == anna)
    theirs = next(d for d in office if d["account_id"] == bo)
    statement = (
        "Entry_ID;Booking_Date;Amount;Reference;Counterparty\r\n"
        f"E1;2025-02-20;500,00;Faktura {mine['number']};Anna\r\n"
    )
    booked = await rig.client.post(
        "/api/payments/bank-statements", content=statement.encode(), headers=CSV
    )
    assert booked.status_code == 200 and booked.json()["matched"] == 1, booked.text

    async with httpx.AsyncClient(base_url=rig.client.base_url) as web:
        me = portal_headers(anna)
        listed = await web.get(f"{PORTAL}/invoices", headers=me)
        assert listed.status_code == 200, listed.text
        assert listed.json() == {
            "items": [
                {
                    "number": mine["number"], "kind": "invoice", "status": "partly_paid",
                    "period_start": "2025-01-01", "period_end": "2025-02-01",
                    "issue_date": mine["issue_date"], "due_date": mine["due_date"],
                    "subtotal": "623.35", "vat": "155.84", "total": "779.19",
                    "aconto_paid": "0.00", "next_prepayment": "0.00", "amount_due": "779.19",
                    "outstanding": "279.19", "corrects_number": None,
                }
            ],
            "next": None,
        }  # fmt: skip
        assert "account_id" not in listed.text and "invoice_id" not in listed.text

        detail = await web.get(f"{PORTAL}/invoices/{mine['number']}", headers=me)
        assert detail.status_code == 200, detail.text
        body = detail.json()
        assert body["fi_code_line"].startswith("+71<")
        assert {ln["gsrn"] for ln in body["lines"]} == {anna_gsrn}
        assert sum(Decimal(ln["amount"]) for ln in body["lines"]) == Decimal("623.35")
        assert sum(Decimal(ln["vat"]) for ln in body["lines"]) == Decimal("155.84")
        spot = next(ln for ln in body["lines"] if ln["code"] == "spot_energy")
        assert spot["text"] == "Elpris (spotpris)" and spot["correction"] is False
        assert "source_id" not in detail.text

        pdf = await web.get(f"{PORTAL}/invoices/{mine['number']}/pdf", headers=me)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        back_office_pdf = await rig.client.get(f"/api/invoices/{mine['invoice_id']}.pdf")
        assert back_office_pdf.content == pdf.content  # the bill kept, the same bytes

        paid = await web.get(f"{PORTAL}/payments", headers=me)
        assert paid.status_code == 200, paid.text
        assert paid.json() == {
            "balance": "279.19",
            "payments": [
                {
                    "received_on": "2025-02-20", "amount": "500.00", "method": "bank",
                    "status": "matched", "pays": [{"number": mine["number"], "amount": "500.00"}],
                }
            ],
        }  # fmt: skip

        # Bo's invoice is not Anna's: 404 as a number that does not exist, nothing shown.
        for path in (f"/invoices/{theirs['number']}", f"/invoices/{theirs['number']}/pdf"):
            other = await web.get(f"{PORTAL}{path}", headers=me)
            assert other.status_code == 404, path
            assert other.headers["content-type"].startswith("application/problem+json")
            assert "779.19" not in other.text
        for path in ("/invoices/x", "/invoices/2025-99999", "/invoices/2025-00001x/pdf"):
            assert (await web.get(f"{PORTAL}{path}", headers=me)).status_code == 404, path
        assert (await web.get(f"{PORTAL}/invoices/%00/pdf", headers=me)).status_code == 400
        # A position in digits that are not ASCII ("p" + Arabic-Indic or full-width three)
        # decoded to a cursor of ours: a forged cursor paged on instead of being refused.
        forged = [base64.urlsafe_b64encode(f"p{d}".encode()).decode() for d in ("\u0663", "\uff13")]
        for params in ({"after": "nope"}, {"after": "\x00"}, {"limit": "0"},
                       {"limit": "100000"}, {"limit": "x"}, {"after": "A" * 5000},
                       *({"after": f} for f in forged)):  # fmt: skip
            bad = await web.get(f"{PORTAL}/invoices", params=params, headers=me)
            assert bad.status_code == 400, (params, bad.text)
            assert bad.headers["content-type"].startswith("application/problem+json")
        for number in ("2025-1" + "0" * 300, "ÆØÅ-1", "2025-00001 OR 1=1", "../2025-00001"):
            odd = await web.get(f"{PORTAL}/invoices/{number}", headers=me)
            assert odd.status_code in (400, 404), (number, odd.text)
        # Bo sees his own, unpaid.
        his = (await web.get(f"{PORTAL}/invoices", headers=portal_headers(bo))).json()["items"]
        assert [(d["number"], d["outstanding"]) for d in his] == [(theirs["number"], "779.19")]
        assert (await web.get(f"{PORTAL}/payments", headers=portal_headers(bo))).json() == {
            "balance": "779.19",
            "payments": [],
        }
        # A customer never billed: no documents, no account.
        stranger = portal_headers(str(uuid.uuid4()))
        assert (await web.get(f"{PORTAL}/invoices", headers=stranger)).json()["items"] == []
        assert (await web.get(f"{PORTAL}/payments", headers=stranger)).status_code == 404
        # A portal token on a back-office route: 403.
        assert (await web.get("/api/invoices", headers=me)).status_code == 403

    # Back office on the portal routes: 403 (the portal shows one customer's own data).
    for path in ("/invoices", f"/invoices/{mine['number']}", "/payments"):
        assert (await rig.client.get(f"{PORTAL}{path}")).status_code == 403, path


async def test_a_credit_note_names_the_invoice_it_corrects(rig: Any, golden: Any) -> None:
    gsrn = "571313180400000003"
    customer = await rig.customer(gsrn, start=date(2025, 1, 1), frequency="monthly")
    gm06 = golden("GM06")
    january = await rig.settle(gsrn, customer, rig.negated(gm06["documents"][0]))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 1
    await rig.correct(january, gsrn, customer, gm06["documents"][0], "erroneous_switch")
    assert await billing.run_once(rig.inv) == 1

    async with httpx.AsyncClient(base_url=rig.client.base_url) as web:
        me = portal_headers(customer)
        items = (await web.get(f"{PORTAL}/invoices", headers=me)).json()["items"]
        assert [(d["number"], d["kind"], d["status"], d["total"], d["outstanding"],
                 d["corrects_number"]) for d in items] == [
            ("2025-00001", "invoice", "credited", "779.19", "0.00", None),
            ("K2025-00001", "credit_note", "issued", "-779.19", "0.00", "2025-00001"),
        ]  # fmt: skip
        note = (await web.get(f"{PORTAL}/invoices/K2025-00001", headers=me)).json()
        assert note["lines"] and all(ln["correction"] for ln in note["lines"])
        assert sum(Decimal(ln["amount"]) for ln in note["lines"]) == Decimal(note["subtotal"])
        pdf = await web.get(f"{PORTAL}/invoices/K2025-00001/pdf", headers=me)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert (await web.get(f"{PORTAL}/payments", headers=me)).json() == {
            "balance": "0.00",
            "payments": [],
        }


@pytest.mark.parametrize("digits", ["\u0663\u0663", "\uff13\uff13", "\u00b2"])
def test_a_position_cursor_is_ascii_digits_only(digits: str) -> None:
    def b64(raw: str) -> str:
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    assert cursors.decode_position(cursors.encode_position(33)) == 33
    with pytest.raises(cursors.InvalidCursor):
        cursors.decode_position(b64(f"p{digits}"))
    with pytest.raises(cursors.InvalidCursor):
        webhooks._decode_position(b64(f"d:{digits}"))
