"""The money path through the whole system: metering points a supplier brings at go-live,
a quarter of DataHub's data from the simulator, three monthly settlements, one quarterly
invoice per payer whose bill shows the settled figures, a later correction from DataHub
credited on a linked credit note, both in the ERP feed, and a Betalingsservice 0602 that pays
what is owed: the ledger ends at zero."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_system import wattline
from pypdf import PdfReader
from scenario import Scenario, eventually, rsm012, started
from wattline_invoicing.adapters.betalingsservice import PaymentResult, write_0602

D = Decimal
QUARTER = ("2025-01", "2025-02", "2025-03")
SETTINGS = {
    "WATTLINE_INVOICING_JOB_INTERVAL_S": "1",
    # The go-live import's default for contracts: quarterly, in arrears.
    "WATTLINE_PORTFOLIO_BILLING_FREQUENCY": "quarterly",
    "WATTLINE_PORTFOLIO_PAYMENT_MODEL": "arrears",
}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A system of its own: this test moves its market clock a quarter ahead."""
    yield from started(tmp_path_factory.mktemp("wattline-invoicing"), SETTINGS)


def _danish(amount: Decimal) -> str:
    whole, _, ore = f"{amount:,.2f}".partition(".")
    return f"{whole.replace(',', '.')},{ore}"


async def test_a_quarter_billed_corrected_and_paid(system: Scenario, tmp_path: Path) -> None:
    # Given a third of the market is ours: the seed imports those points (the go-live migration)
    await system.given_the_go_live_import(
        metering_points=9, seed=5, ours_share="0.34", customers=1, cwd=tmp_path
    )
    rows = [
        r for r in await system.given_our_imported_points() if r["metering_point_type"] == "E17"
    ]
    assert len(rows) >= 2, rows
    gsrns = [r["gsrn"] for r in rows]
    await system.given_settlement_knows(gsrns)

    # When a quarter of DataHub's data arrives, and the spot prices
    await system.when_an_operator_moves_the_clock("2025-04-02T00:00:00+00:00", cwd=tmp_path)
    await system.when_spot_prices_are_imported("2025-01-01", "2025-03-31")
    # and three monthly settlements are run
    for period in QUARTER:
        await system.when_an_operator_runs_settlement(period, cwd=tmp_path)
    settled: dict[str, Decimal] = {}
    for gsrn in gsrns:
        q1 = await system.then_settlements_of(gsrn, *QUARTER)
        assert len(q1) == 3, q1
        settled[gsrn] = sum((D(s["total"]) for s in q1), D("0.00"))

    # Then one quarterly invoice per payer, its total the sum of its settlements to the øre.
    await system.call("GET", "/api/settlement/settlements/uninvoiced")
    closed = await system.when_the_invoice_cycle_closes("2025-Q1")
    assert len(closed["issued"]) == len(gsrns), closed
    by_gsrn = {}
    async with system.api() as api:
        for detail in await system.then_invoices_of_cycle("2025-Q1"):
            [gsrn] = {line["gsrn"] for line in detail["lines"]}
            by_gsrn[gsrn] = detail
            assert D(detail["total"]) == settled[gsrn], (detail["total"], settled[gsrn])
            bill = await api.get(f"/api/invoices/{detail['invoice_id']}.pdf")
            assert bill.status_code == 200
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(bill.content)).pages)
            assert _danish(D(detail["total"])) in text and gsrn in text
            assert detail["fi_code_line"] in text

    # When DataHub corrects 15 January of the first point (the day's consumption was 0 after
    # all), then a credit note names the invoice.
    first = gsrns[0]
    await system.when_datahub_sends("MeasureData", rsm012(
        first, date(2025, 1, 15), 0, registered="2025-04-03T05:55:00Z",
        created="2025-04-03T06:00:00Z", quality="A04"))  # fmt: skip
    note = await eventually(
        lambda: system.get("/api/erp/invoices"),
        lambda page: any(i["kind"] == "credit_note" for i in page["items"]),
        240,
    )
    note = note["items"]
    [credit] = [i["document"] for i in note if i["kind"] == "credit_note"]
    original = by_gsrn[first]
    assert credit["corrects_number"] == original["number"], credit
    assert D(credit["total"]) < 0
    erp = [i["document"]["number"] for i in note]
    assert original["number"] in erp and credit["number"] in erp

    # When Betalingsservice collects what is owed (the corrected amount), the ledger ends at 0.
    account = await system.get(f"/api/billing-accounts/{original['account_id']}")
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
    paid = await system.call("POST", "/api/payments/betalingsservice/0602", content=delivery,
                             headers={"content-type": "application/octet-stream"})  # fmt: skip
    assert paid.status_code == 200 and paid.json()["matched"] == 1, paid.text
    after = await system.get(f"/api/billing-accounts/{original['account_id']}")
    assert after["balance"] == "0.00", after
    status = (await system.get(f"/api/invoices/{original['invoice_id']}"))["status"]
    assert status == "paid"

    # Then settlement sees what invoicing billed.
    uninvoiced = await system.get("/api/settlements/uninvoiced")
    assert not any(s["gsrn"] in gsrns for s in uninvoiced["settlements"]), uninvoiced


async def test_the_billed_quarter_backed_up_and_restored_into_a_fresh_home(
    system: Scenario, tmp_path: Path
) -> None:
    """After the quarter above (settlements, invoices, a credit note, a payment): a backup,
    restored into a fresh home whose system meets a fresh broker. Its relays publish every
    outbox again; every consumer skips what it had applied, so every table ends as it was."""
    # Given the system at rest, backed up
    quiet = await system.when_the_system_is_quiet()
    made = await system.cli("backup", str(tmp_path / "backup"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "keys" in made.stdout and "pii.key" in made.stdout
    assert await system.when_the_system_is_quiet() == quiet  # the backup is that state
    invoices = await system.then_invoices_of_cycle("2025-Q1")
    assert invoices and (tmp_path / "backup" / "keys").stat().st_mode & 0o077 == 0

    # When it is restored into a fresh home and started there
    fresh = tmp_path / "fresh"
    restored = await asyncio.to_thread(
        wattline, "--home", str(fresh), "restore", str(tmp_path / "backup"), home=None,
        cwd=tmp_path,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    counted = {f"{schema}.{table}": n for schema, t in manifest["schemas"].items()
               for table, n in t.items()}  # fmt: skip
    assert {table: counted[table] for table in quiet} == {t: n for t, (n, _) in quiet.items()}
    assert f"restored {sum(counted.values())} rows" in restored.stdout
    # A second restore into the same home is refused: its database is no longer empty.
    again = await asyncio.to_thread(
        wattline, "--home", str(fresh), "restore", str(tmp_path / "backup"), home=None,
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 2 and "fresh home" in again.stderr, again.stderr
    restarted = started(fresh, SETTINGS)
    twin = next(restarted)
    try:
        # Then, once all is applied, every outbox was published again to its new broker
        after = await twin.when_the_system_is_quiet()
        [epoch] = await twin.sql("SELECT broker_epoch FROM portfolio.relay_state")
        [original] = await system.sql("SELECT broker_epoch FROM portfolio.relay_state")
        assert epoch["broker_epoch"] != original["broker_epoch"]
        # and every table holds what it held: nothing applied twice, nothing lost
        assert {t for t in after if after[t] != quiet.get(t)} == set()
        assert after == quiet
        # and the API shows the same invoices, the payer's sealed name read with the key
        assert await twin.then_invoices_of_cycle("2025-Q1") == invoices
        account = invoices[0]["account_id"]
        assert await twin.get(f"/api/billing-accounts/{account}") == await system.get(
            f"/api/billing-accounts/{account}"
        )
    finally:
        restarted.close()  # stops the restored system
