"""Quarterly invoicing of N payers, their bills, and a Betalingsservice 0602 that pays them.

Starts embedded PostgreSQL (Tansu too, unused: nothing here goes through the broker) on free
ports, applies invoicing's migrations and writes straight into invoicing's tables what the
portfolio's and settlement's events would have left there, deterministically: N billing
accounts (one payer, one metering point each, the party sealed as the portfolio seals it),
their contracts (quarterly, in arrears) and three monthly settlements each (January, February
and March 2025: golden case GM01's lines scaled per payer), by COPY.

Then, timed one after the other:

1. **the cycle close** (``issuing.close_cycle`` for 2025-Q1, what the billing job runs on
   7 April): every invoice numbered, stored with its lines, its settlements marked billed,
   booked in the ledger and its ``invoicing.invoice.issued`` event in the outbox;
2. **bills**: ``--pdfs`` of them rendered to PDF and kept (``bills.render_pending``, the render
   job);
3. **payments**: a 0602 delivery paying every invoice (``write_0602``, as Nets would send it)
   imported and matched (``betalingsservice.import_0602``).

Beside each figure, its floor measured in the same run: reading every unbilled settlement
(what the close cannot do without), rendering the same bill again without the database
(``bill_render.render_pdf``), and parsing the 0602 alone (``read_0602``). The checks: N
invoices with consecutive numbers 1..N, each total the sum of its three settlements, N events,
every bill kept, every invoice paid and every ledger at zero.

    uv run python benchmarks/invoicing_80k.py --smoke            # 30 payers, seconds
    uv run python benchmarks/invoicing_80k.py --payers 80000 --pdfs 2000

Goals on 2 cores: the close of 80,000 payers <= 120 s, >= 100 PDFs/s, the 0602 <= 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from _bench import Checks, machine, parse_args
from wattline_invoicing.adapters import bill_render
from wattline_invoicing.adapters.betalingsservice import PaymentResult, read_0602, write_0602
from wattline_invoicing.bootstrap import SPEC, wire
from wattline_invoicing.domain.cycles import parse
from wattline_invoicing.handlers import betalingsservice, bills, issuing
from wattline_invoicing.settings import InvoicingSettings
from wattline_platform import migrations
from wattline_platform.db import Database
from wattline_platform.embedded import throwaway_stack
from wattline_platform.logging import configure_logging
from wattline_platform.pii import PiiCipher

GM01_LINES = [
    ("spot_energy", "409.200", None, "370.14"),
    ("supplier_margin", "409.200", None, "16.37"),
    ("grid_tariff", "409.200", None, "103.42"),
    ("system_tariff", "409.200", None, "22.10"),
    ("transmission_tariff", "409.200", None, "20.05"),
    ("electricity_tax", "409.200", None, "3.27"),
    ("grid_subscription", None, 31, "49.00"),
    ("supplier_subscription", None, 31, "39.00"),
]


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.value = now

    async def now(self) -> datetime:
        return self.value


def _settlement(n: int, month: int) -> tuple[list[dict[str, Any]], Decimal, Decimal, Decimal]:
    """GM01's lines with the per-kWh amounts scaled by a per-payer factor (0.5..1.5): real
    figures that differ from payer to payer, each line rounded as settlement rounds."""
    factor = Decimal(50 + (n * 37 + month * 11) % 101) / 100
    lines = []
    for code, kwh, days, amount in GM01_LINES:
        value = Decimal(amount) if days else (Decimal(amount) * factor).quantize(Decimal("0.01"))
        lines.append({
            "code": code,
            "quantity_kwh": None if kwh is None else str((Decimal(kwh) * factor).quantize(Decimal("0.001"))),
            "days": days, "unit_price": None, "amount": str(value),
        })  # fmt: skip
    subtotal = sum((Decimal(x["amount"]) for x in lines), Decimal("0.00"))
    vat = (subtotal * Decimal("0.25")).quantize(Decimal("0.01"))
    return lines, subtotal, vat, subtotal + vat


async def load(db: Database, payers: int, cipher: PiiCipher) -> dict[str, Decimal]:
    """Accounts, contracts and three settlements per payer, by COPY; the expected totals."""
    sealed = cipher.seal(json.dumps({
        "name": "Jens Hansen", "cpr_cvr": "0101901234", "contact_type": "private",
        "address": {"street": "Vestergade", "house_number": "7", "floor": None, "door": None,
                    "postal_code": "8000", "city": "Aarhus C"},
        "email": None, "phone": None,
    }))  # fmt: skip
    expected: dict[str, Decimal] = {}
    accounts, contracts, billables = [], [], []
    for n in range(payers):
        account = str(uuid.UUID(int=n + 1))
        gsrn = f"5713131900{n:08d}"
        accounts.append((account, "private", "010190-****", sealed))
        contracts.append((str(uuid.uuid4()), gsrn, account, account, "spot", 1,
                          date(2024, 1, 1), None, "quarterly", "arrears"))  # fmt: skip
        total = Decimal("0.00")
        for month in (1, 2, 3):
            lines, subtotal, vat, month_total = _settlement(n, month)
            end = date(2025, month + 1, 1)
            billables.append((str(uuid.uuid4()), "settlement", None, gsrn, account,
                              f"2025-{month:02d}", date(2025, month, 1), end,
                              Decimal(lines[0]["quantity_kwh"]), json.dumps(lines), subtotal, vat,
                              month_total, Decimal("0.25")))  # fmt: skip
            total += month_total
        expected[account] = total
    async with db.transaction() as tx:
        await tx.copy_records_to_table(
            "billing_account", records=accounts,
            columns=["account_id", "contact_type", "cpr_cvr_masked", "party_sealed"],
        )  # fmt: skip
        await tx.copy_records_to_table(
            "contract", records=contracts,
            columns=["contract_id", "gsrn", "customer_id", "account_id", "product_id",
                     "product_version", "start_date", "end_date", "billing_frequency",
                     "payment_model"],
        )  # fmt: skip
        await tx.execute("ALTER TABLE billable ALTER COLUMN lines TYPE text")  # COPY as text
        await tx.copy_records_to_table(
            "billable", records=billables,
            columns=["source_id", "kind", "corrects", "gsrn", "customer_id", "billing_period",
                     "period_start", "period_end", "consumption_kwh", "lines", "subtotal",
                     "vat", "total", "vat_rate"],
        )  # fmt: skip
        await tx.execute("ALTER TABLE billable ALTER COLUMN lines TYPE jsonb USING lines::jsonb")
    # What autovacuum does to a live database after a load: planner statistics.
    await db.execute("ANALYZE")
    return expected


async def run(args: argparse.Namespace) -> int:
    configure_logging("invoicing-benchmark", level="WARNING")
    checks = Checks()
    cipher = PiiCipher(PiiCipher.new_key())
    async with throwaway_stack(fast_db=args.fast_db) as stack:
        dsn = stack.dsn
        db = await Database(dsn, "invoicing", max_size=4).open()
        async with db.connection() as conn:
            await migrations.apply(conn, "invoicing", SPEC.migrations())
        inv = wire(InvoicingSettings(database_url=dsn, jobs=False), cipher)
        inv.service.db = db
        inv.service.uses_broker = False
        inv.service.clock = FixedClock(datetime(2025, 4, 7, 8, tzinfo=UTC))  # type: ignore[assignment]
        print(f"loading {args.payers:,} payers and {3 * args.payers:,} settlements ...", flush=True)
        t0 = time.perf_counter()
        expected = await load(db, args.payers, cipher)
        print(f"  loaded in {time.perf_counter() - t0:.1f} s", flush=True)

        t0 = time.perf_counter()
        async with db.connection() as conn:
            await conn.fetch("SELECT * FROM billable WHERE invoice_id IS NULL")
        floor_read = time.perf_counter() - t0

        print("closing 2025-Q1 ...", flush=True)
        progress = asyncio.create_task(_progress(db, args.payers))
        t0 = time.perf_counter()
        issued = await issuing.close_cycle(inv, parse("2025-Q1"), date(2025, 4, 7))
        close_s = time.perf_counter() - t0
        progress.cancel()
        rows = await db.fetch("SELECT account_id, seq, total FROM invoice ORDER BY seq")
        events = await db.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'invoicing.invoice.issued'"
        )
        checks.check(len(issued) == args.payers, f"{len(issued):,} invoices issued")
        checks.check(
            [r["seq"] for r in rows] == list(range(1, args.payers + 1)), "numbers 1..N, no gap"
        )
        checks.check(
            all(r["total"] == expected[r["account_id"]] for r in rows),
            "each total = its 3 settlements",
        )
        checks.check(events == args.payers, f"{events:,} invoice.issued events in the outbox")

        pdfs = min(args.pdfs, args.payers)
        view = await bills.bill_view(inv, issued[0].invoice_id)
        t0 = time.perf_counter()
        for _ in range(min(pdfs, 200)):
            bill_render.render_pdf(view)
        floor_pdf = (time.perf_counter() - t0) / min(pdfs, 200)
        print(f"rendering {pdfs:,} bills ...", flush=True)
        t0 = time.perf_counter()
        rendered = 0
        while rendered < pdfs:
            rendered += await bills.render_pending(inv, limit=min(200, pdfs - rendered))
        render_s = time.perf_counter() - t0
        kept = await db.fetchval("SELECT count(*) FROM invoice_pdf")
        checks.check(kept == pdfs, f"{kept:,} PDFs kept")

        numbers = {
            r["account_id"]: r["account_number"]
            for r in await db.fetch("SELECT account_id, account_number FROM billing_account")
        }
        docs = await db.fetch("SELECT account_id, number, due_date, amount_due FROM invoice")
        results = [
            PaymentResult(
                transaction_code="0236", creditor_pbs="04567890", debtor_group="00001",
                customer_number=f"{numbers[d['account_id']]:015d}", mandate_number="000000001",
                due_date=d["due_date"], amount_requested=d["amount_due"], reference=d["number"],
                paid_date=d["due_date"], booked_date=d["due_date"], amount_paid=d["amount_due"],
                line_number=0,
            )
            for d in docs
        ]  # fmt: skip
        delivery = write_0602(results, data_supplier="12345678", creditor_pbs="04567890",
                              debtor_group="00001", delivery_id=1, created=date(2025, 4, 22))  # fmt: skip
        t0 = time.perf_counter()
        read_0602(delivery)
        floor_parse = time.perf_counter() - t0
        print(f"importing a 0602 of {len(results):,} payments ...", flush=True)
        t0 = time.perf_counter()
        report = await betalingsservice.import_0602(inv, delivery)
        pay_s = time.perf_counter() - t0
        unpaid = await db.fetchval("SELECT count(*) FROM invoice WHERE status <> 'paid'")
        owing = await db.fetchval(
            "SELECT count(*) FROM (SELECT account_id FROM ledger_entry GROUP BY account_id HAVING sum(amount) <> 0) x"
        )
        checks.check(report.matched == args.payers, f"{report.matched:,} payments matched")
        checks.check(unpaid == 0 and owing == 0, "every invoice paid, every ledger at zero")
        await db.close()

    print(
        f"\nRESULT close of {args.payers:,} payers in {close_s:.2f} s = "
        f"{args.payers / close_s:,.0f} invoices/s (floor: reading their settlements "
        f"{floor_read:.2f} s); {pdfs:,} PDFs in {render_s:.2f} s = {pdfs / render_s:,.0f}/s "
        f"(floor: render alone {1 / floor_pdf:,.0f}/s); 0602 of {len(results):,} payments in "
        f"{pay_s:.2f} s (floor: parsing {floor_parse:.2f} s)\n{machine()}",
        flush=True,
    )
    return checks.exit_code()


async def _progress(db: Database, total: int) -> None:
    while True:
        await asyncio.sleep(5)
        done = await db.fetchval("SELECT count(*) FROM invoice")
        print(f"  {done:,} / {total:,} invoices", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payers", type=int, default=80_000)
    parser.add_argument("--pdfs", type=int, default=2_000, help="bills to render and keep")
    parser.add_argument("--fast-db", action="store_true", help="fsync off (as in tests)")
    args = parse_args(parser, {"payers": 30, "pdfs": 10, "fast_db": True})
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
