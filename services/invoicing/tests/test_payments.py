"""Given issued invoices, when a bank statement comes in, then each payment is matched (FI
payment id, invoice number), allocated (partly, over), booked once in the ledger, and what no
rule matches waits on the suspense list until back office allocates it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import REGISTRY
from wattline_invoicing.jobs import billing

D = Decimal
CSV = {"content-type": "text/csv"}


async def three_invoices(rig: Any, golden: Any) -> list[dict[str, Any]]:
    """Three payers, each billed January (GM01: 779.19), numbers 2025-00001..3."""
    for n in range(3):
        gsrn = f"57131318040000000{n}"
        customer = await rig.customer(gsrn, start=date(2025, 1, 1), frequency="monthly")
        await rig.settle(gsrn, customer, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 3
    docs: list[dict[str, Any]] = (await rig.client.get("/api/invoices")).json()["items"]
    return docs


async def balance(rig: Any, account_id: str) -> str:
    answer = await rig.client.get(f"/api/billing-accounts/{account_id}")
    value: str = answer.json()["balance"]
    return value


async def test_a_statement_pays_part_over_and_some_it_cannot_place(rig: Any, golden: Any) -> None:
    a, b, c = await three_invoices(rig, golden)
    statement = (
        "Entry_ID;Booking_Date;Amount;Reference;Counterparty\r\n"
        f"E1;2025-02-20;779,19;{a['fi_payment_id']};Jens Hansen\r\n"  # exact, by FI id
        f"E2;20.02.2025;500.00;Faktura {b['number']} tak;Ole\r\n"  # partly, by number
        f"E3;2025-02-21;1.000,00;+71<{c['fi_payment_id']}+81234567<;Lise\r\n"  # over
        "E4;2025-02-21;250,00;tak for strøm;Ukendt\r\n"  # no rule matches
        "E5;2025-02-21;-99,00;Gebyr;Banken\r\n"  # money out: not ours to book
    )
    answer = await rig.client.post(
        "/api/payments/bank-statements", content=statement.encode(), headers=CSV
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "received": 4, "matched": 3, "unmatched": 1, "already_booked": 0, "failed": 0,
        "reversed": 0, "skipped": 1, "amount": "2529.19",
    }  # fmt: skip
    statuses = {
        d["number"]: d["status"] for d in (await rig.client.get("/api/invoices")).json()["items"]
    }
    assert statuses == {a["number"]: "paid", b["number"]: "partly_paid", c["number"]: "paid"}
    assert await balance(rig, a["account_id"]) == "0.00"
    assert await balance(rig, b["account_id"]) == "279.19"
    assert await balance(rig, c["account_id"]) == "-220.81"  # the payer's credit

    again = await rig.client.post(
        "/api/payments/bank-statements", content=statement.encode(), headers=CSV
    )
    assert again.json()["already_booked"] == 4 and again.json()["received"] == 0
    assert await balance(rig, b["account_id"]) == "279.19"

    [waiting] = (await rig.client.get("/api/payments/suspense")).json()["items"]
    assert (waiting["amount"], waiting["status"], waiting["account_id"]) == (
        "250.00",
        "unmatched",
        None,
    )
    placed = await rig.client.post(
        f"/api/payments/{waiting['payment_id']}/allocate", json={"account_id": b["account_id"]}
    )
    assert placed.status_code == 200, placed.text
    assert placed.json()["allocations"] == [
        {"invoice_id": b["invoice_id"], "number": b["number"], "amount": "250.00"}
    ]
    assert await balance(rig, b["account_id"]) == "29.19"
    twice = await rig.client.post(
        f"/api/payments/{waiting['payment_id']}/allocate", json={"account_id": b["account_id"]}
    )
    assert twice.status_code == 409
    assert (await rig.client.get("/api/payments/suspense")).json()["items"] == []

    owed = (await rig.client.get("/api/payments/refunds")).json()
    number_c = (await rig.client.get(f"/api/invoices/{c['invoice_id']}")).json()["account_number"]
    assert owed == [{"account_id": c["account_id"], "account_number": number_c, "amount": "220.81"}]
    refund = {"amount": "220.81", "reference": "BANK-77", "paid_on": "2025-02-25"}
    paid_back = await rig.client.post(
        f"/api/billing-accounts/{c['account_id']}/refunds", json=refund
    )
    assert paid_back.status_code == 200 and paid_back.json()["booked"] is True
    again_back = await rig.client.post(
        f"/api/billing-accounts/{c['account_id']}/refunds", json=refund
    )
    assert again_back.json()["booked"] is False  # the same refund, booked once
    assert await balance(rig, c["account_id"]) == "0.00"
    too_much = {"amount": "1.00", "reference": "BANK-78", "paid_on": "2025-02-25"}
    refused = await rig.client.post(
        f"/api/billing-accounts/{c['account_id']}/refunds", json=too_much
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/refund-too-large")
    assert (await rig.client.get("/api/payments/refunds")).json() == []

    received = await rig.events("invoicing.payment.received")
    assert len(received) == 5  # four booked, one allocated later
    assert received[2]["unallocated"] == "220.81" and received[2]["rule"] == "fi_payment_id"
    assert received[1]["rule"] == "invoice_number"
    assert "Jens" not in str(received) and "Lise" not in str(received)  # counterparty not kept


async def test_a_bad_statement_is_refused_whole(rig: Any, golden: Any) -> None:
    await three_invoices(rig, golden)
    bad = (
        "entry_id,booking_date,amount,reference\r\n"
        "E1,2025-02-20,12x,ref\r\n"
        "E2,2025-13-01,1.00,r\r\n"
    )
    answer = await rig.client.post(
        "/api/payments/bank-statements", content=bad.encode(), headers=CSV
    )
    assert answer.status_code == 400 and answer.json()["type"].endswith("/invalid-statement")
    assert answer.json()["reasons"] == [
        "line 2: amount not valid",
        "line 3: booking_date not valid",
    ]
    missing = await rig.client.post(
        "/api/payments/bank-statements", content=b"entry_id,amount\r\n", headers=CSV
    )
    assert missing.status_code == 400
    wrong_type = await rig.client.post(
        "/api/payments/bank-statements", content=b"x", headers={"content-type": "application/json"}
    )
    assert wrong_type.status_code == 415
    unknown = await rig.client.post(
        "/api/payments/00000000-0000-0000-0000-000000000000/allocate", json={"account_id": "x"}
    )
    assert unknown.status_code == 404
    assert await rig.inv.service.database.fetchval("SELECT count(*) FROM payment") == 0


async def test_the_posting_journal_balances_and_keeps_pass_through_apart(
    rig: Any, golden: Any
) -> None:
    a, _, _ = await three_invoices(rig, golden)
    statement = (
        f"entry_id,booking_date,amount,reference\r\nE1,2025-02-20,779.19,{a['fi_payment_id']}\r\n"
    )
    await rig.client.post("/api/payments/bank-statements", content=statement.encode(), headers=CSV)
    answer = await rig.client.get(
        "/api/erp/journal", params={"from": "2025-02-01", "to": "2025-03-01"}
    )
    assert answer.status_code == 200, answer.text
    postings = answer.json()
    assert sum(D(p["debit"]) for p in postings) == sum(D(p["credit"]) for p in postings)
    first = [
        (p["account"], p["debit"], p["credit"]) for p in postings if p["document"] == a["number"]
    ]
    assert first == [
        ("1100", "779.19", "0.00"),  # receivables
        ("1040", "0.00", "3.27"),  # elafgift, passed on to the state
        ("1030", "0.00", "42.15"),  # Energinet's system and transmission tariffs
        ("1020", "0.00", "152.42"),  # the grid company's tariff and subscription
        ("1010", "0.00", "425.51"),  # the supplier's own: spot, margin, subscription
        ("8510", "0.00", "155.84"),  # output VAT
    ]
    paid = [
        (p["account"], p["debit"], p["credit"])
        for p in postings
        if p["document"].startswith("payment:")
    ]
    assert paid == [("1100", "0.00", "779.19"), ("5820", "779.19", "0.00")]
    bad = await rig.client.get(
        "/api/erp/journal", params={"from": "2025-03-01", "to": "2025-02-01"}
    )
    assert bad.status_code == 400 and bad.json()["type"].endswith("/invalid-range")


async def test_betalingsservice_collects_pays_rejects_and_reverses(
    rig: Any, golden: Any, bs_files: Any
) -> None:
    from wattline_invoicing.adapters.betalingsservice import read_0601

    a, b, c = await three_invoices(rig, golden)
    numbers = {
        d["number"]: (await rig.client.get(f"/api/invoices/{d['invoice_id']}")).json()[
            "account_number"
        ]
        for d in (a, b, c)
    }
    bs = {"content-type": "text/plain; charset=iso-8859-1"}
    mandates = await rig.client.post(
        "/api/payments/betalingsservice/0603",
        content=bs_files.mandates_0603(sorted(numbers.values())),
        headers=bs,
    )
    assert mandates.status_code == 200, mandates.text
    assert mandates.json() == {"changes": 3, "active": 3, "cancelled": 0}

    requests = await rig.client.get(
        "/api/payments/betalingsservice/0601", params={"due_until": "2025-02-28"}
    )
    assert requests.status_code == 200, requests.text
    collected = read_0601(requests.content).requests
    assert [(r.reference, r.amount, r.due_date) for r in collected] == [
        (d["number"], D("779.19"), date(2025, 2, 21))
        for d in sorted((a, b, c), key=lambda d: numbers[d["number"]])
    ]

    due = date(2025, 2, 21)
    results = bs_files.results_0602([
        ("0236", numbers[a["number"]], "779.19", a["number"], due),
        ("0237", numbers[b["number"]], "779.19", b["number"], due),
        ("0236", numbers[c["number"]], "779.19", c["number"], due),
    ])  # fmt: skip
    booked = await rig.client.post(
        "/api/payments/betalingsservice/0602", content=results, headers=bs
    )
    assert booked.status_code == 200, booked.text
    assert {k: booked.json()[k] for k in ("received", "matched", "failed", "amount")} == {
        "received": 2, "matched": 2, "failed": 1, "amount": "1558.38"
    }  # fmt: skip
    again = await rig.client.post(
        "/api/payments/betalingsservice/0602", content=results, headers=bs
    )
    assert again.json()["already_booked"] == 3 and again.json()["received"] == 0

    reversal = bs_files.results_0602([("0239", numbers[c["number"]], "779.19", c["number"], due)])
    reversed_ = await rig.client.post(
        "/api/payments/betalingsservice/0602", content=reversal, headers=bs
    )
    assert reversed_.json()["reversed"] == 1

    statuses = {
        d["number"]: d["status"] for d in (await rig.client.get("/api/invoices")).json()["items"]
    }
    assert statuses == {a["number"]: "paid", b["number"]: "issued", c["number"]: "issued"}
    assert await balance(rig, a["account_id"]) == "0.00"
    assert await balance(rig, b["account_id"]) == "779.19"  # rejected: still owed
    ledger = (await rig.client.get(f"/api/billing-accounts/{c['account_id']}")).json()["ledger"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [
        ("invoice", "779.19"),
        ("payment", "-779.19"),
        ("reversal", "779.19"),
    ]
    failed = await rig.events("invoicing.payment.failed")
    assert [(f["kind"], f["number"]) for f in failed] == [
        ("rejected", b["number"]),
        ("reversed", c["number"]),
    ]

    cut_short = results.rsplit(b"BS992", 1)[0]  # no delivery end
    broken = await rig.client.post(
        "/api/payments/betalingsservice/0602", content=cut_short, headers=bs
    )
    assert broken.status_code == 400 and broken.json()["type"].endswith(
        "/invalid-betalingsservice-file"
    )


def test_danish_amounts_in_a_statement() -> None:
    from wattline_invoicing.adapters.bank_csv import StatementRefused, read

    body = (
        "entry_id;booking_date;amount;reference\r\n"
        "A;2025-02-20;1.234;x\r\nB;2025-02-20;1.234,50;x\r\nC;2025-02-20;12.34;x\r\n"
        "D;2025-02-20;1234,5;x\r\n"
    )
    assert [e.amount for e in read(body.encode())] == [
        D("1234.00"),
        D("1234.50"),
        D("12.34"),
        D("1234.50"),
    ]
    with pytest.raises(StatementRefused, match="line 2: amount"):
        read(b"entry_id,booking_date,amount,reference\r\nA,2025-02-20,99999999999.00,x\r\n")


def _camt(kind: str, entries: list[tuple[str, str, str, str]]) -> bytes:
    """A camt.053 (Stmt) or camt.054 (Ntfctn) document: (bank ref, CRDT/DBIT, amount, ref)."""
    root, tag = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}[kind]
    ntry = "".join(
        f'<Ntry><Amt Ccy="DKK">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>2025-02-20</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{ref}</EndToEndId></Refs>"
        f'<AmtDtls><TxAmt><Amt Ccy="DKK">{amount}</Amt></TxAmt></AmtDtls>'
        f"<RmtInf><Strd><CdtrRefInf><Ref>{text}</Ref></CdtrRefInf></Strd></RmtInf>"
        f"</TxDtls></NtryDtls></Ntry>"
        for ref, side, amount, text in entries
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document '
        f'xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.08"><{root}>'
        f"<GrpHdr><MsgId>M1</MsgId><CreDtTm>2025-02-20T18:00:00</CreDtTm></GrpHdr>"
        f"<{tag}><Id>S1</Id><Acct><Id><IBAN>DK5000400440116243</IBAN></Id></Acct>{ntry}</{tag}>"
        f"</{root}></Document>"
    ).encode()


async def test_camt_statements_pay_like_the_csv(rig: Any, golden: Any) -> None:
    a, b, _ = await three_invoices(rig, golden)
    xml = {"content-type": "application/xml"}
    statement = _camt(
        "053", [("B1", "CRDT", "779.19", a["fi_payment_id"]), ("B2", "DBIT", "50.00", "gebyr")]
    )
    booked = await rig.client.post("/api/payments/bank-statements", content=statement, headers=xml)
    assert booked.status_code == 200, booked.text
    assert (booked.json()["matched"], booked.json()["skipped"]) == (1, 1)
    again = await rig.client.post("/api/payments/bank-statements", content=statement, headers=xml)
    assert again.json()["already_booked"] == 1
    notice = _camt("054", [("B3", "CRDT", "779.19", f"Faktura {b['number']}")])
    noticed = await rig.client.post("/api/payments/bank-statements", content=notice, headers=xml)
    assert noticed.status_code == 200 and noticed.json()["matched"] == 1, noticed.text
    assert await balance(rig, a["account_id"]) == "0.00"
    assert await balance(rig, b["account_id"]) == "0.00"
    bad = await rig.client.post(
        "/api/payments/bank-statements", content=b"<Document/>", headers=xml
    )
    assert bad.status_code == 400 and bad.json()["type"].endswith("/invalid-statement")


def _counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_documents_issued_and_payments_matched_are_counted(rig: Any, golden: Any) -> None:
    issued = _counted("wattline_invoicing_documents_issued_total", kind="invoice")
    matched = _counted("wattline_invoicing_payments_total", outcome="matched")
    unmatched = _counted("wattline_invoicing_payments_total", outcome="unmatched")

    a, b, _ = await three_invoices(rig, golden)
    assert _counted("wattline_invoicing_documents_issued_total", kind="invoice") == issued + 3

    statement = (
        "Entry_ID;Booking_Date;Amount;Reference;Counterparty\r\n"
        f"E1;2025-02-20;779,19;{a['fi_payment_id']};Jens Hansen\r\n"
        f"E2;20.02.2025;500.00;Faktura {b['number']} tak;Ole\r\n"
        "E4;2025-02-21;250,00;tak for strøm;Ukendt\r\n"
    )
    answer = await rig.client.post(
        "/api/payments/bank-statements",
        content=statement.encode(),
        headers={"content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert _counted("wattline_invoicing_payments_total", outcome="matched") == matched + 2
    assert _counted("wattline_invoicing_payments_total", outcome="unmatched") == unmatched + 1
    # The same statement again books nothing, and counts nothing.
    again = await rig.client.post(
        "/api/payments/bank-statements",
        content=statement.encode(),
        headers={"content-type": "text/csv"},
    )
    assert again.json()["already_booked"] == 3, again.text
    assert _counted("wattline_invoicing_payments_total", outcome="matched") == matched + 2
