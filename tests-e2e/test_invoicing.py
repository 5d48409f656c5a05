"""The money path through the whole system: metering points a supplier brings at go-live,
a quarter of DataHub's data from the simulator, three monthly settlements, one quarterly
invoice per payer whose bill shows the settled figures, a later correction from DataHub
credited on a linked credit note, both in the ERP feed, and a Betalingsservice 0602 that pays
what is owed: the ledger ends at zero."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from e2e_system import System, running, wait_for, wattline
from pypdf import PdfReader
from wattline_invoicing.adapters.betalingsservice import PaymentResult, write_0602

CIM = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "fixtures" / "cim"
FIXTURE = CIM / "rsm012-validated-measure-data-pt1h-2025-01-15.json"
D = Decimal


@pytest.fixture(scope="module")
def money(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A system of its own: this test moves its market clock a quarter ahead."""
    yield from running(
        tmp_path_factory.mktemp("wattline-invoicing"),
        {
            "WATTLINE_INVOICING_JOB_INTERVAL_S": "1",
            # The go-live import's default for contracts: quarterly, in arrears.
            "WATTLINE_PORTFOLIO_BILLING_FREQUENCY": "quarterly",
            "WATTLINE_PORTFOLIO_PAYMENT_MODEL": "arrears",
        },
    )


def _danish(amount: Decimal) -> str:
    whole, _, ore = f"{amount:,.2f}".partition(".")
    return f"{whole.replace(',', '.')},{ore}"


def _corrected_day(gsrn: str) -> bytes:
    """DataHub's corrected data for 15 January: the day's consumption was 0 after all."""
    doc = json.loads(FIXTURE.read_text())
    root = doc["NotifyValidatedMeasureData_MarketDocument"]
    root["mRID"] = str(uuid.uuid4())
    root["createdDateTime"] = "2025-04-03T06:00:00Z"
    [series] = root["Series"]
    series["mRID"] = str(uuid.uuid4())
    series["marketEvaluationPoint.mRID"]["value"] = gsrn
    series["originalTransactionIDReference_Series.mRID"] = f"MDR-TX-{uuid.uuid4().hex[:12]}"
    series["registration_DateAndOrTime.dateTime"] = "2025-04-03T05:55:00Z"
    for point in series["Period"]["Point"]:
        point["quantity"] = 0
        point["quality"] = {"value": "A04"}
    return json.dumps(doc).encode()


def test_a_quarter_billed_corrected_and_paid(money: System, tmp_path: Path) -> None:
    # A third of the market is ours: the seed imports those points (the go-live migration).
    seeded = wattline("sim", "seed", "--metering-points", "9", "--seed", "5", "--ours-share",
                      "0.34", "--customers", "1", home=money.home, cwd=tmp_path)  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    with (
        httpx.Client(base_url=money.url, headers={"X-API-Key": money.key}, timeout=120) as api,
        httpx.Client(base_url=money.simulator_url, timeout=600, auth=money.identity_auth()) as sim,
    ):
        export = list(csv.DictReader(io.StringIO(sim.get("/sim/portfolio-import.csv").text)))
        rows = [r for r in export if r["metering_point_type"] == "E17"]
        assert len(rows) >= 2, export
        gsrns = [r["gsrn"] for r in rows]
        for gsrn in gsrns:
            known = wait_for(lambda g=gsrn: api.get(f"/api/settlement/metering-points/{g}"),
                             lambda r: r.status_code == 200)  # fmt: skip
            assert known.status_code == 200, known.text

        # A quarter of DataHub's data, and the spot prices.
        moved = wattline("sim", "clock", "--to", "2025-04-02T00:00:00+00:00", "--wait",
                         home=money.home, cwd=tmp_path, timeout=900)  # fmt: skip
        assert moved.returncode == 0, moved.stderr
        for area in ("DK1", "DK2"):
            spot = api.post(
                "/api/settlement/spot-prices/import",
                json={"price_area": area, "from": "2025-01-01", "to": "2025-03-31"},
            )
            assert spot.status_code == 200, spot.text

        # Three monthly settlements.
        for period in ("2025-01", "2025-02", "2025-03"):
            for _ in range(10):
                run = wattline("settlement", "run", "--period", period, home=money.home,
                               cwd=tmp_path)  # fmt: skip
                if run.returncode == 0 and "completed" in run.stdout.splitlines()[-1]:
                    break
                time.sleep(3)
            assert run.returncode == 0, run.stdout + run.stderr
        settled: dict[str, Decimal] = {}
        for gsrn in gsrns:
            history = api.get(f"/api/settlement/metering-points/{gsrn}/settlements").json()
            q1 = [
                s
                for s in history["settlements"]
                if s["billing_period"] in ("2025-01", "2025-02", "2025-03")
            ]
            assert len(q1) == 3, history
            settled[gsrn] = sum((D(s["total"]) for s in q1), D("0.00"))

        # One quarterly invoice per payer, its total the sum of its settlements to the øre.
        wait_for(
            lambda: api.get("/api/settlement/settlements/uninvoiced").status_code, lambda s: True, 1
        )
        closed = api.post("/api/invoices/cycles/2025-Q1/close")
        assert closed.status_code == 200, closed.text
        assert len(closed.json()["issued"]) == len(gsrns), closed.text
        invoices = api.get("/api/invoices", params={"cycle": "2025-Q1"}).json()["items"]
        by_gsrn = {}
        for doc in invoices:
            detail = api.get(f"/api/invoices/{doc['invoice_id']}").json()
            [gsrn] = {line["gsrn"] for line in detail["lines"]}
            by_gsrn[gsrn] = detail
            assert D(detail["total"]) == settled[gsrn], (detail["total"], settled[gsrn])
            bill = api.get(f"/api/invoices/{doc['invoice_id']}.pdf")
            assert bill.status_code == 200
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(bill.content)).pages)
            assert _danish(D(detail["total"])) in text and gsrn in text
            assert detail["fi_code_line"] in text

        # DataHub corrects 15 January of the first point: a credit note names the invoice.
        first = gsrns[0]
        queued = sim.post("/sim/messages/MeasureData", content=_corrected_day(first))
        assert queued.status_code == 201, queued.text
        note = wait_for(
            lambda: api.get("/api/erp/invoices").json()["items"],
            lambda items: any(i["kind"] == "credit_note" for i in items),
            240,
        )
        [credit] = [i["document"] for i in note if i["kind"] == "credit_note"]
        original = by_gsrn[first]
        assert credit["corrects_number"] == original["number"], credit
        assert D(credit["total"]) < 0
        erp = [i["document"]["number"] for i in note]
        assert original["number"] in erp and credit["number"] in erp

        # Betalingsservice collects what is owed: the corrected amount; the ledger ends at 0.
        account = api.get(f"/api/billing-accounts/{original['account_id']}").json()
        owed = D(account["balance"])
        assert owed == D(original["amount_due"]) + D(credit["total"])
        result = PaymentResult(
            transaction_code="0236", creditor_pbs="04567890", debtor_group="00001",
            customer_number=f"{original['account_number']:015d}", mandate_number="000000001",
            due_date=date.fromisoformat(original["due_date"]), amount_requested=owed,
            reference=original["number"], paid_date=date.fromisoformat(original["due_date"]),
            booked_date=date.fromisoformat(original["due_date"]), amount_paid=owed,
            line_number=0,
        )  # fmt: skip
        delivery = write_0602(
            [result], data_supplier="12345678", creditor_pbs="04567890", debtor_group="00001",
            delivery_id=1, created=date(2025, 4, 25),
        )  # fmt: skip
        paid = api.post("/api/payments/betalingsservice/0602", content=delivery,
                        headers={"content-type": "application/octet-stream"})  # fmt: skip
        assert paid.status_code == 200 and paid.json()["matched"] == 1, paid.text
        after = api.get(f"/api/billing-accounts/{original['account_id']}").json()
        assert after["balance"] == "0.00", after
        status = api.get(f"/api/invoices/{original['invoice_id']}").json()["status"]
        assert status == "paid"

        # Settlement sees what invoicing billed.
        uninvoiced = api.get("/api/settlements/uninvoiced").json()
        assert not any(s["gsrn"] in gsrns for s in uninvoiced["settlements"]), uninvoiced
