"""Given an issued quarterly invoice, then its bill is the Danish PDF (and HTML) of exactly
its figures, with the payer's name and address opened from the sealed party, kept once
rendered."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from pypdf import PdfReader
from wattline_invoicing.domain.bill import BillLine
from wattline_invoicing.domain.invoice import InvoiceLine
from wattline_invoicing.handlers import bills
from wattline_invoicing.jobs import billing

GSRN = "571313180400000028"


async def test_the_quarterly_bill_shows_the_invoice_in_danish(rig: Any, golden: Any) -> None:
    customer = await rig.customer(GSRN, start=date(2025, 1, 1))
    february = rig.negated(golden("GM06")["documents"][1])
    for result in (golden("GM01"), february):
        await rig.settle(GSRN, customer, result)
    await rig.settle(
        GSRN, customer, {**golden("GM01"), "period": {"start": "2025-03-01", "end": "2025-04-01"}}
    )
    rig.clock.set_today(date(2025, 4, 7))
    assert await billing.run_once(rig.inv) == 1
    [doc] = (await rig.client.get("/api/invoices")).json()["items"]
    detail = (await rig.client.get(f"/api/invoices/{doc['invoice_id']}")).json()

    answer = await rig.client.get(f"/api/invoices/{doc['invoice_id']}.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    assert len(reader.pages) == 2
    text = " ".join(page.extract_text() for page in reader.pages)
    for shown in (
        "2.272,81",  # the quarter incl. VAT: 779,19 + 714,43 + 779,19
        "1.818,24",  # excl. VAT
        "454,57",  # VAT
        "1.188,000",  # kWh
        "2025-00001",
        "Søren Ærø Østergård",
        "Åboulevarden 12, 3. tv",
        "8000 Aarhus C",
        GSRN,
        detail["fi_code_line"],
        "22.04.2025",  # due: Easter Monday moved it to Tuesday
        "Ankenævnet på Energiområdet",
    ):
        assert shown in text, shown
    assert "0101901234" not in text  # the CPR number is never printed

    page = await rig.client.get(f"/api/invoices/{doc['invoice_id']}.html")
    assert page.status_code == 200 and "2.272,81" in page.text and "Søren" in page.text
    assert await rig.inv.service.database.fetchval("SELECT count(*) FROM invoice_pdf") == 1
    again = await rig.client.get(f"/api/invoices/{doc['invoice_id']}.pdf")
    assert again.content == answer.content  # kept: the bill the payer got
    assert await bills.render_pending(rig.inv) == 0
    missing = await rig.client.get("/api/invoices/00000000-0000-0000-0000-000000000000.pdf")
    assert missing.status_code == 404


async def test_the_render_job_renders_new_documents_once(rig: Any, golden: Any) -> None:
    customer = await rig.customer(GSRN, start=date(2025, 1, 1), frequency="monthly")
    await rig.settle(GSRN, customer, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    await billing.run_once(rig.inv)
    assert await bills.render_pending(rig.inv) == 1
    assert await bills.render_pending(rig.inv) == 0


def test_a_fee_is_printed_in_danish_after_the_subscriptions_without_quantity() -> None:
    def line(code: str, days: int | None, amount: str) -> InvoiceLine:
        return InvoiceLine(
            "571313180400000028", "s1", "settlement", date(2025, 1, 1), date(2025, 2, 1),
            code, "grid", None, days, None, Decimal(amount), Decimal(0),
        )  # fmt: skip

    printed = bills._section_lines(
        [line("grid_fee", None, "60.00"), line("grid_subscription", 31, "49.00"),
         line("energinet_fee", None, "10.00")]
    )  # fmt: skip
    assert printed == (
        BillLine("Netabonnement", None, 31, Decimal("1.580645"), Decimal("49.00")),
        BillLine("Gebyr (netselskab)", None, None, None, Decimal("60.00")),
        BillLine("Gebyr (Energinet)", None, None, None, Decimal("10.00")),
    )
