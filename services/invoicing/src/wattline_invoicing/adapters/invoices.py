"""SQL for invoices and credit notes: gap-free numbers, documents and their lines, the
prepayments of aconto payers, the ledger, and the read models (list, detail, ERP feed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

import asyncpg
from wattline_platform import leases
from wattline_platform.leases import lock_key

from wattline_invoicing.domain.invoice import Draft, InvoiceLine


async def next_number(tx: asyncpg.Connection, series: str, year: int) -> int:
    """The next number of *series* in *year*, inside *tx*.

    The counter row stays locked until *tx* ends: a concurrent issuer waits, and a rollback
    gives the number back (a sequence would lose it), so numbers are gap-free and unique.
    """
    value: int = await tx.fetchval(
        """INSERT INTO number_counter (series, year, last_number) VALUES ($1, $2, 1)
           ON CONFLICT (series, year)
           DO UPDATE SET last_number = number_counter.last_number + 1
           RETURNING last_number""",
        series,
        year,
    )
    return value


@dataclass(frozen=True)
class Issued:
    """A numbered document as stored."""

    invoice_id: uuid.UUID
    account_id: str
    kind: str
    number: str
    series: str
    year: int
    seq: int
    status: str
    cycle: str | None
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    fi_payment_id: str | None
    subtotal: Decimal
    vat: Decimal
    total: Decimal
    aconto_paid: Decimal
    next_prepayment: Decimal
    amount_due: Decimal
    corrects_invoice_id: uuid.UUID | None
    issued_at: datetime
    feed_seq: int = 0  # the ERP feed's position (see lock_feed)

    @property
    def difference(self) -> Decimal:
        return self.total - self.aconto_paid


_COLUMNS = """invoice_id, account_id, kind, number, series, year, seq, status, cycle,
    period_start, period_end, issue_date, due_date, fi_payment_id, subtotal, vat, total,
    aconto_paid, next_prepayment, amount_due, corrects_invoice_id, issued_at, feed_seq"""

# What is outstanding of each open invoice of the accounts in {accounts} (a query of account
# ids) once the payer's credit (an overpayment, a credit note beyond its invoice) has paid the
# oldest first: credit = what the open invoices ask in all - what the ledger says the payer
# owes (fees and interest apart: claims of their own). Dunning and the 0601 ask for this.
EFFECTIVE_OPEN = """
    WITH open AS (
        SELECT i.invoice_id, i.account_id, i.number, i.due_date,
               i.amount_due - i.credited - coalesce((SELECT sum(a.amount) FROM allocation a
                                                     WHERE a.invoice_id = i.invoice_id), 0) AS own
        FROM invoice i
        WHERE i.kind = 'invoice' AND i.status IN ('issued', 'partly_paid') AND i.amount_due > 0
          AND i.account_id IN ({accounts})
    ), credit AS (
        SELECT o.account_id,
               greatest(sum(o.own) - (SELECT coalesce(sum(l.amount), 0) FROM ledger_entry l
                                      WHERE l.account_id = o.account_id
                                        AND l.kind NOT IN ('fee', 'interest')), 0) AS credit
        FROM open o GROUP BY o.account_id
    ), effective AS (
        SELECT o.invoice_id, o.account_id, o.number, o.due_date,
               greatest(0, least(o.own, sum(o.own) OVER (PARTITION BY o.account_id
                                                         ORDER BY o.due_date, o.invoice_id)
                                        - c.credit)) AS outstanding
        FROM open o JOIN credit c USING (account_id)
    )
"""

_FEED_LOCK = lock_key("invoicing-feed")


async def feed_mark(tx: asyncpg.Connection) -> int:
    """The highest feed position every document up to which is committed (or rolled back):
    read under the feed lock held exclusively, which only waits for issuers in flight, and
    released with *tx* at once, so readers never hold issuing up while they page."""
    await lock_feed(tx, reader=True)
    value: int | None = await tx.fetchval(
        "SELECT pg_sequence_last_value(pg_get_serial_sequence('invoice', 'feed_seq'))"
    )
    return value or 0


async def lock_feed(tx: asyncpg.Connection, *, reader: bool) -> None:
    """The feed lock, as the outbox's (``wattline_platform.outbox``): an issuing transaction
    takes it shared before it draws feed positions, a reader exclusively while it reads. A
    reader so sees every position below the highest it sees committed, and none in flight."""
    await leases.xact_lock(tx, _FEED_LOCK, shared=not reader)


@dataclass(frozen=True)
class Row:
    """A document to store: the draft with its number, dates and payment id."""

    invoice_id: uuid.UUID
    account_id: str
    draft: Draft
    series: str
    year: int
    seq: int
    number: str
    cycle: str | None
    period: tuple[date, date]
    issue_date: date
    due_date: date
    fi_payment_id: str | None


_LINE_COLUMNS = [
    "invoice_id", "position", "gsrn", "source_id", "source_kind", "period_start", "period_end",
    "code", "revenue", "quantity_kwh", "days", "unit_price", "amount", "vat",
]  # fmt: skip
_INVOICE_COLUMNS = [
    "invoice_id", "account_id", "kind", "series", "year", "seq", "number", "status", "cycle",
    "period_start", "period_end", "issue_date", "due_date", "fi_payment_id", "subtotal", "vat",
    "total", "aconto_paid", "next_prepayment", "amount_due", "corrects_invoice_id", "issued_at",
]  # fmt: skip


async def insert_many(tx: asyncpg.Connection, rows: Sequence[Row]) -> list[Issued]:
    """Store the documents and their lines (COPY: one round trip each, whatever their
    number); the constraints (unique numbers, totals, the aconto identity) still hold."""
    issued_at: datetime = await tx.fetchval("SELECT now()")
    issued = [
        Issued(
            invoice_id=r.invoice_id,
            account_id=r.account_id,
            kind=r.draft.kind,
            number=r.number,
            series=r.series,
            year=r.year,
            seq=r.seq,
            status="issued",
            cycle=r.cycle,
            period_start=r.period[0],
            period_end=r.period[1],
            issue_date=r.issue_date,
            due_date=r.due_date,
            fi_payment_id=r.fi_payment_id,
            subtotal=r.draft.totals.subtotal,
            vat=r.draft.totals.vat,
            total=r.draft.totals.total,
            aconto_paid=r.draft.aconto_paid,
            next_prepayment=r.draft.next_prepayment,
            amount_due=r.draft.amount_due,
            corrects_invoice_id=None
            if r.draft.corrects_invoice_id is None
            else uuid.UUID(r.draft.corrects_invoice_id),
            issued_at=issued_at,
        )
        for r in rows
    ]
    await tx.copy_records_to_table(
        "invoice",
        records=[tuple(getattr(i, c) for c in _INVOICE_COLUMNS) for i in issued],
        columns=_INVOICE_COLUMNS,
    )
    await tx.copy_records_to_table(
        "invoice_line",
        records=[
            (
                r.invoice_id,
                position,
                line.gsrn,
                line.source_id,
                line.source_kind,
                line.period_start,
                line.period_end,
                line.code,
                line.revenue,
                line.quantity_kwh,
                line.days,
                line.unit_price,
                line.amount,
                line.vat,
            )
            for r in rows
            for position, line in enumerate(r.draft.lines, start=1)
        ],
        columns=_LINE_COLUMNS,
    )
    positions = dict(
        await tx.fetch(
            "SELECT invoice_id, feed_seq FROM invoice WHERE invoice_id = ANY($1::uuid[])",
            [i.invoice_id for i in issued],
        )
    )
    return [replace(i, feed_seq=positions[i.invoice_id]) for i in issued]


async def reserve_numbers(tx: asyncpg.Connection, series: str, year: int, count: int) -> int:
    """The first of *count* consecutive numbers of *series* in *year*, held by *tx* (see
    :func:`next_number`: the counter row stays locked, a rollback gives them all back)."""
    last: int = await tx.fetchval(
        """INSERT INTO number_counter (series, year, last_number) VALUES ($1, $2, $3)
           ON CONFLICT (series, year)
           DO UPDATE SET last_number = number_counter.last_number + $3
           RETURNING last_number""",
        series,
        year,
        count,
    )
    return last - count + 1


async def book_many(
    tx: asyncpg.Connection, entries: Sequence[tuple[str, str, str, Decimal, date, uuid.UUID]]
) -> None:
    """Ledger entries of new documents (account, kind, number, amount, booked on, invoice):
    their references are new numbers, so none is booked yet."""
    await tx.copy_records_to_table(
        "ledger_entry",
        records=[(a, k, ref, i, amount, on) for a, k, ref, amount, on, i in entries],
        columns=["account_id", "kind", "reference", "invoice_id", "amount", "booked_on"],
    )


async def numbers_of(
    conn: asyncpg.Connection, invoice_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not invoice_ids:
        return {}
    rows = await conn.fetch(
        "SELECT invoice_id, number FROM invoice WHERE invoice_id = ANY($1::uuid[])",
        list(invoice_ids),
    )
    return {r["invoice_id"]: r["number"] for r in rows}


async def get(conn: asyncpg.Connection, invoice_id: uuid.UUID) -> Issued | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM invoice WHERE invoice_id = $1", invoice_id)
    return None if row is None else Issued(**dict(row))


async def lines(conn: asyncpg.Connection, invoice_id: uuid.UUID) -> list[InvoiceLine]:
    rows = await conn.fetch(
        """SELECT gsrn, source_id, source_kind, period_start, period_end, code, revenue,
                  quantity_kwh, days, unit_price, amount, vat
           FROM invoice_line WHERE invoice_id = $1 ORDER BY position""",
        invoice_id,
    )
    return [InvoiceLine(**dict(r)) for r in rows]


async def number_of(conn: asyncpg.Connection, invoice_id: uuid.UUID) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT number FROM invoice WHERE invoice_id = $1", invoice_id
    )
    return value


async def invoiced_cycle(conn: asyncpg.Connection, account_id: str, cycle: str) -> bool:
    """True when the account has an invoice for *cycle* already."""
    value: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM invoice WHERE account_id = $1 AND cycle = $2)",
        account_id,
        cycle,
    )
    return value


async def invoiced_cycle_many(
    conn: asyncpg.Connection, account_ids: Sequence[str], cycle: str
) -> set[str]:
    """Those of *account_ids* with an invoice for *cycle* already."""
    rows = await conn.fetch(
        "SELECT DISTINCT account_id FROM invoice WHERE account_id = ANY($1::text[]) AND cycle = $2",
        list(account_ids),
        cycle,
    )
    return {r["account_id"] for r in rows}


async def page(
    conn: asyncpg.Connection,
    *,
    account_id: str | None,
    customer_id: str | None,
    status: str | None,
    cycle: str | None,
    after: int | None,
    limit: int,
    upto: int | None = None,
) -> list[Issued]:
    """Documents in feed order, filtered, after the feed position *after* (up to *upto*).
    *customer_id*: documents that bill one of the customer's settlements."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM invoice i
            WHERE ($1::text IS NULL OR account_id = $1)
              AND ($2::text IS NULL OR status = $2)
              AND ($3::text IS NULL OR cycle = $3)
              AND ($4::bigint IS NULL OR feed_seq > $4)
              AND ($7::bigint IS NULL OR feed_seq <= $7)
              AND ($6::text IS NULL OR EXISTS (
                  SELECT 1 FROM billable b
                  WHERE b.invoice_id = i.invoice_id AND b.customer_id = $6))
            ORDER BY feed_seq
            LIMIT $5""",
        account_id,
        status,
        cycle,
        after,
        limit,
        customer_id,
        upto,
    )
    return [Issued(**dict(r)) for r in rows]


async def billed_items(conn: asyncpg.Connection, invoice_id: uuid.UUID) -> list[tuple[str, str]]:
    """(source id, kind) of what *invoice_id* bills, in the order it bills them."""
    rows = await conn.fetch(
        """SELECT source_id, kind FROM billable WHERE invoice_id = $1
           ORDER BY gsrn, period_start, kind, source_id""",
        invoice_id,
    )
    return [(r["source_id"], r["kind"]) for r in rows]


# -- aconto prepayments -------------------------------------------------------------------


async def prepaid(tx: asyncpg.Connection, account_id: str, cycle: str) -> Decimal:
    """What the account was billed in advance for *cycle* and no final settlement deducted."""
    value: Decimal = await tx.fetchval(
        """SELECT coalesce(sum(amount), 0) FROM prepayment
           WHERE account_id = $1 AND cycle = $2 AND invoice_id IS NOT NULL
             AND settled_by IS NULL""",
        account_id,
        cycle,
    )
    return value


async def settle_prepayment(
    tx: asyncpg.Connection, account_id: str, cycle: str, invoice_id: uuid.UUID
) -> None:
    await tx.execute(
        """UPDATE prepayment SET settled_by = $3
           WHERE account_id = $1 AND cycle = $2 AND invoice_id IS NOT NULL
             AND settled_by IS NULL""",
        account_id,
        cycle,
        invoice_id,
    )


@dataclass(frozen=True)
class Prepayment:
    amount: Decimal
    invoice_id: uuid.UUID | None  # None: set ahead, not billed yet


async def prepayment_for(
    conn: asyncpg.Connection, account_id: str, cycle: str
) -> Prepayment | None:
    row = await conn.fetchrow(
        "SELECT amount, invoice_id FROM prepayment WHERE account_id = $1 AND cycle = $2",
        account_id,
        cycle,
    )
    return None if row is None else Prepayment(row["amount"], row["invoice_id"])


async def set_prepayment(
    tx: asyncpg.Connection, account_id: str, cycle: str, amount: Decimal
) -> bool:
    """Set the prepayment of *cycle* ahead of billing; False when it is billed already."""
    status: str = await tx.execute(
        """INSERT INTO prepayment (account_id, cycle, amount) VALUES ($1, $2, $3)
           ON CONFLICT (account_id, cycle) DO UPDATE SET amount = EXCLUDED.amount
           WHERE prepayment.invoice_id IS NULL""",
        account_id,
        cycle,
        amount,
    )
    return status.endswith(" 1")


async def bill_prepayment(
    tx: asyncpg.Connection, account_id: str, cycle: str, amount: Decimal, invoice_id: uuid.UUID
) -> None:
    """*invoice_id* bills the prepayment of *cycle* (set ahead, or estimated now)."""
    await tx.execute(
        """INSERT INTO prepayment (account_id, cycle, amount, invoice_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (account_id, cycle) DO UPDATE SET amount = EXCLUDED.amount,
               invoice_id = EXCLUDED.invoice_id
           WHERE prepayment.invoice_id IS NULL""",
        account_id,
        cycle,
        amount,
        invoice_id,
    )


async def new_aconto_accounts(
    conn: asyncpg.Connection, frequency: str, cycle: str, start: date, end: date
) -> list[str]:
    """Accounts with an aconto contract billed at *frequency* running in [start, end) that
    have no document at all and no billed prepayment for *cycle*: a new aconto payer, whose
    first prepayment is due. (A payer billed before gets its next prepayment on its cycle's
    invoice.)"""
    rows = await conn.fetch(
        """SELECT DISTINCT c.account_id FROM contract c
           JOIN billing_account a ON a.account_id = c.account_id
           WHERE c.payment_model = 'aconto' AND c.billing_frequency = $4
             AND c.start_date < $3 AND (c.end_date IS NULL OR c.end_date > $2)
             AND NOT EXISTS (SELECT 1 FROM prepayment p WHERE p.account_id = c.account_id
                             AND p.cycle = $1 AND p.invoice_id IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM invoice i WHERE i.account_id = c.account_id)
           ORDER BY c.account_id""",
        cycle,
        start,
        end,
        frequency,
    )
    return [r["account_id"] for r in rows]


@dataclass(frozen=True)
class AcontoPoint:
    gsrn: str
    product_id: str
    start: date
    end: date | None


async def aconto_points(
    conn: asyncpg.Connection, account_id: str, start: date, end: date
) -> list[AcontoPoint]:
    """The account's aconto contracts running in [start, end), one per metering point (the
    newest)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (gsrn) gsrn, product_id, start_date AS start, end_date AS end
           FROM contract
           WHERE account_id = $1 AND payment_model = 'aconto'
             AND start_date < $3 AND (end_date IS NULL OR end_date > $2)
           ORDER BY gsrn, start_date DESC""",
        account_id,
        start,
        end,
    )
    return [AcontoPoint(**dict(r)) for r in rows]


async def apply_credit(tx: asyncpg.Connection, invoice_id: uuid.UUID, amount: Decimal) -> None:
    """A credit note of *amount* (> 0) takes that much off the invoice it corrects."""
    await tx.execute(
        "UPDATE invoice SET credited = credited + $2 WHERE invoice_id = $1", invoice_id, amount
    )


async def mark_credited_if_cancelled(tx: asyncpg.Connection, invoice_id: uuid.UUID) -> None:
    """An invoice whose correcting documents bring its total to zero is ``credited``."""
    await tx.execute(
        """UPDATE invoice SET status = 'credited'
           WHERE invoice_id = $1 AND total <> 0
             AND total + (SELECT coalesce(sum(total), 0) FROM invoice
                          WHERE corrects_invoice_id = $1) = 0""",
        invoice_id,
    )


# -- the ledger ---------------------------------------------------------------------------


async def book(
    tx: asyncpg.Connection,
    *,
    account_id: str,
    kind: str,
    reference: str,
    amount: Decimal,
    booked_on: date,
    invoice_id: uuid.UUID | None = None,
) -> bool:
    """Book an entry once per (kind, reference); False when it was booked already."""
    status: str = await tx.execute(
        """INSERT INTO ledger_entry (account_id, kind, reference, invoice_id, amount, booked_on)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, reference) DO NOTHING""",
        account_id,
        kind,
        reference,
        invoice_id,
        amount,
        booked_on,
    )
    return status.endswith(" 1")


@dataclass(frozen=True)
class Entry:
    entry_id: int
    kind: str
    reference: str
    invoice_id: uuid.UUID | None
    amount: Decimal
    booked_on: date


async def ledger(conn: asyncpg.Connection, account_id: str) -> list[Entry]:
    rows = await conn.fetch(
        """SELECT entry_id, kind, reference, invoice_id, amount, booked_on FROM ledger_entry
           WHERE account_id = $1 ORDER BY entry_id""",
        account_id,
    )
    return [Entry(**dict(r)) for r in rows]


async def accounts(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, int]:
    """account id -> account number."""
    rows = await conn.fetch(
        "SELECT account_id, account_number FROM billing_account WHERE account_id = ANY($1)",
        list(ids),
    )
    return {r["account_id"]: r["account_number"] for r in rows}


@dataclass(frozen=True)
class JournalDocument:
    number: str
    issue_date: date
    amount_due: Decimal
    aconto_paid: Decimal
    next_prepayment: Decimal
    vat: Decimal
    revenue: dict[str, Decimal]


async def journal_documents(
    conn: asyncpg.Connection, start: date, end: date
) -> list[JournalDocument]:
    """Documents issued on [start, end) with their amounts excl. VAT per revenue owner."""
    rows = await conn.fetch(
        """SELECT i.number, i.issue_date, i.amount_due, i.aconto_paid, i.next_prepayment, i.vat,
                  coalesce((SELECT json_object_agg(revenue, amount) FROM (
                      SELECT revenue, sum(amount)::text AS amount FROM invoice_line l
                      WHERE l.invoice_id = i.invoice_id GROUP BY revenue) r), '{}') AS revenue
           FROM invoice i WHERE i.issue_date >= $1 AND i.issue_date < $2
           ORDER BY i.issue_date, i.number""",
        start,
        end,
    )
    return [
        JournalDocument(
            number=r["number"],
            issue_date=r["issue_date"],
            amount_due=r["amount_due"],
            aconto_paid=r["aconto_paid"],
            next_prepayment=r["next_prepayment"],
            vat=r["vat"],
            revenue={k: Decimal(v) for k, v in json.loads(r["revenue"]).items()},
        )
        for r in rows
    ]


async def journal_entries(conn: asyncpg.Connection, start: date, end: date) -> list[Entry]:
    """Ledger entries on [start, end) that are not documents (payments, fees, ...)."""
    rows = await conn.fetch(
        """SELECT entry_id, kind, reference, invoice_id, amount, booked_on FROM ledger_entry
           WHERE booked_on >= $1 AND booked_on < $2 AND kind NOT IN ('invoice', 'credit_note')
           ORDER BY booked_on, entry_id""",
        start,
        end,
    )
    return [Entry(**dict(r)) for r in rows]


async def credit_balances(conn: asyncpg.Connection) -> list[tuple[str, int, Decimal]]:
    """(account, number, balance) of the accounts whose balance is below zero."""
    rows = await conn.fetch(
        """SELECT l.account_id, a.account_number, sum(l.amount) AS balance
           FROM ledger_entry l JOIN billing_account a USING (account_id)
           GROUP BY l.account_id, a.account_number HAVING sum(l.amount) < 0
           ORDER BY sum(l.amount), l.account_id"""
    )
    return [(r["account_id"], r["account_number"], r["balance"]) for r in rows]
