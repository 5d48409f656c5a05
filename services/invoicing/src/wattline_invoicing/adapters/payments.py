"""SQL for payments: receipts and what they pay, failures, mandates, and the open invoices
matching reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from wattline_invoicing.adapters.invoices import EFFECTIVE_OPEN
from wattline_invoicing.domain.payments import OpenInvoice

# Outstanding of an invoice: what it asks, less what payments allocated to it.
_OPEN = """
    SELECT i.invoice_id::text AS invoice_id, i.account_id, i.number, i.fi_payment_id,
           i.due_date,
           i.amount_due - i.credited - coalesce((SELECT sum(a.amount) FROM allocation a
                                    WHERE a.invoice_id = i.invoice_id), 0) AS outstanding
    FROM invoice i
"""


def _open(row: asyncpg.Record) -> OpenInvoice:
    return OpenInvoice(
        invoice_id=row["invoice_id"],
        account_id=row["account_id"],
        number=row["number"],
        fi_payment_id=row["fi_payment_id"],
        due_date=row["due_date"],
        outstanding=row["outstanding"],
    )


async def known_refs(conn: asyncpg.Connection, refs: Sequence[str]) -> set[str]:
    """Which of *refs* are booked already (as payments or failures)."""
    rows = await conn.fetch(
        """SELECT external_ref FROM payment WHERE external_ref = ANY($1::text[])
           UNION SELECT external_ref FROM payment_failure WHERE external_ref = ANY($1::text[])""",
        list(refs),
    )
    return {r["external_ref"] for r in rows}


async def invoices_named(
    conn: asyncpg.Connection, payment_ids: Sequence[str], numbers: Sequence[str]
) -> list[OpenInvoice]:
    """Invoices (open or not) carrying one of *payment_ids* or *numbers*."""
    rows = await conn.fetch(
        _OPEN + " WHERE i.kind = 'invoice' AND (i.fi_payment_id = ANY($1::text[])"
        " OR i.number = ANY($2::text[]))",
        list(payment_ids),
        list(numbers),
    )
    return [_open(r) for r in rows]


async def open_invoices_of(
    conn: asyncpg.Connection, account_ids: Sequence[str]
) -> list[OpenInvoice]:
    """The accounts' invoices with something outstanding."""
    rows = await conn.fetch(
        f"""SELECT * FROM ({_OPEN} WHERE i.kind = 'invoice' AND i.amount_due > 0
                           AND i.status IN ('issued', 'partly_paid')
                           AND i.account_id = ANY($1::text[])) o
            WHERE o.outstanding > 0""",
        list(account_ids),
    )
    return [_open(r) for r in rows]


async def accounts_by_number(conn: asyncpg.Connection, numbers: Sequence[int]) -> dict[int, str]:
    rows = await conn.fetch(
        "SELECT account_number, account_id FROM billing_account WHERE account_number = ANY($1)",
        list(numbers),
    )
    return {r["account_number"]: r["account_id"] for r in rows}


async def lock_accounts(tx: asyncpg.Connection, account_ids: Sequence[str]) -> dict[str, int]:
    """Lock the accounts (in a fixed order, so two lockers never deadlock); returns their
    account numbers. Issuing locks the same rows: a payment and an invoice of one payer
    never interleave."""
    rows = await tx.fetch(
        """SELECT account_id, account_number FROM billing_account
           WHERE account_id = ANY($1::text[]) ORDER BY account_id FOR UPDATE""",
        sorted(set(account_ids)),
    )
    return {r["account_id"]: r["account_number"] for r in rows}


@dataclass(frozen=True)
class NewPayment:
    payment_id: uuid.UUID
    source: str
    external_ref: str
    channel_key: str | None
    received_on: date
    amount: Decimal
    reference: str
    account_id: str | None
    rule: str


async def insert_payments(tx: asyncpg.Connection, payments: Sequence[NewPayment]) -> None:
    await tx.copy_records_to_table(
        "payment",
        records=[
            (
                p.payment_id,
                p.source,
                p.external_ref,
                p.channel_key,
                p.received_on,
                p.amount,
                p.reference,
                p.account_id,
                p.rule,
                "unmatched" if p.account_id is None else "matched",
            )
            for p in payments
        ],
        columns=[
            "payment_id",
            "source",
            "external_ref",
            "channel_key",
            "received_on",
            "amount",
            "reference",
            "account_id",
            "rule",
            "status",
        ],
    )


async def insert_allocations(
    tx: asyncpg.Connection, allocations: Sequence[tuple[uuid.UUID, str, Decimal]]
) -> None:
    if allocations:
        await tx.executemany(
            "INSERT INTO allocation (payment_id, invoice_id, amount) VALUES ($1, $2::uuid, $3)",
            allocations,
        )


async def refresh_status(tx: asyncpg.Connection, invoice_ids: Sequence[str]) -> None:
    """Set paid / partly_paid / issued from what is allocated (credited ones stay)."""
    await tx.execute(
        """UPDATE invoice i SET status = CASE
               WHEN paid.amount + i.credited >= i.amount_due THEN 'paid'
               WHEN paid.amount > 0 THEN 'partly_paid'
               ELSE 'issued' END
           FROM (SELECT x.invoice_id,
                        coalesce((SELECT sum(a.amount) FROM allocation a
                                  WHERE a.invoice_id = x.invoice_id), 0) AS amount
                 FROM invoice x WHERE x.invoice_id = ANY($1::uuid[])) paid
           WHERE i.invoice_id = paid.invoice_id AND i.status <> 'credited'
             AND i.kind = 'invoice' AND i.amount_due > 0""",
        list(invoice_ids),
    )


async def book_entries(
    tx: asyncpg.Connection, entries: Sequence[tuple[str, str, str, Decimal, date]]
) -> None:
    """Ledger entries (account, kind, reference, amount, booked on), each once."""
    if entries:
        await tx.executemany(
            """INSERT INTO ledger_entry (account_id, kind, reference, amount, booked_on)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, reference) DO NOTHING""",
            entries,
        )


async def insert_failure(
    tx: asyncpg.Connection,
    *,
    external_ref: str,
    source: str,
    kind: str,
    account_id: str | None,
    invoice_id: str | None,
    reference: str,
    due_date: date,
    amount: Decimal,
    payment_id: uuid.UUID | None = None,
) -> bool:
    status: str = await tx.execute(
        """INSERT INTO payment_failure (external_ref, source, kind, account_id, invoice_id,
               reference, due_date, amount, payment_id)
           VALUES ($1, $2, $3, $4, $5::uuid, $6, $7, $8, $9) ON CONFLICT DO NOTHING""",
        external_ref,
        source,
        kind,
        account_id,
        invoice_id,
        reference,
        due_date,
        amount,
        payment_id,
    )
    return status.endswith(" 1")


@dataclass(frozen=True)
class StoredPayment:
    payment_id: uuid.UUID
    source: str
    external_ref: str
    received_on: date
    amount: Decimal
    reference: str
    account_id: str | None
    rule: str
    status: str
    created_at: datetime


_PAYMENT = """payment_id, source, external_ref, received_on, amount, reference, account_id, rule,
    status, created_at"""


async def get(
    conn: asyncpg.Connection, payment_id: uuid.UUID, *, lock: bool = False
) -> StoredPayment | None:
    row = await conn.fetchrow(
        f"SELECT {_PAYMENT} FROM payment WHERE payment_id = $1" + (" FOR UPDATE" if lock else ""),
        payment_id,
    )
    return None if row is None else StoredPayment(**dict(row))


async def accounts_of_channel_keys(conn: asyncpg.Connection, keys: Sequence[str]) -> list[str]:
    """The payers of the matched payments named by *keys*."""
    if not keys:
        return []
    rows = await conn.fetch(
        """SELECT DISTINCT account_id FROM payment
           WHERE channel_key = ANY($1::text[]) AND status = 'matched'""",
        list(keys),
    )
    return [r["account_id"] for r in rows]


async def by_channel_key(tx: asyncpg.Connection, key: str) -> StoredPayment | None:
    """The matched payment a Betalingsservice reversal names, locked."""
    row = await tx.fetchrow(
        f"""SELECT {_PAYMENT} FROM payment WHERE channel_key = $1 AND status = 'matched'
            ORDER BY created_at LIMIT 1 FOR UPDATE""",
        key,
    )
    return None if row is None else StoredPayment(**dict(row))


async def allocations_of(
    conn: asyncpg.Connection, payment_id: uuid.UUID
) -> list[tuple[str, str, Decimal]]:
    """(invoice id, number, amount) of what the payment pays."""
    rows = await conn.fetch(
        """SELECT a.invoice_id::text AS invoice_id, i.number, a.amount FROM allocation a
           JOIN invoice i USING (invoice_id) WHERE a.payment_id = $1 ORDER BY i.number""",
        payment_id,
    )
    return [(r["invoice_id"], r["number"], r["amount"]) for r in rows]


async def reverse(tx: asyncpg.Connection, payment_id: uuid.UUID) -> list[str]:
    """Take the payment's allocations back; returns the invoices they paid."""
    rows = await tx.fetch(
        "DELETE FROM allocation WHERE payment_id = $1 RETURNING invoice_id::text AS invoice_id",
        payment_id,
    )
    await tx.execute("UPDATE payment SET status = 'reversed' WHERE payment_id = $1", payment_id)
    return [r["invoice_id"] for r in rows]


async def assign(tx: asyncpg.Connection, payment_id: uuid.UUID, account_id: str, rule: str) -> None:
    await tx.execute(
        "UPDATE payment SET account_id = $2, rule = $3, status = 'matched' WHERE payment_id = $1",
        payment_id,
        account_id,
        rule,
    )


async def suspense(
    conn: asyncpg.Connection, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[StoredPayment]:
    rows = await conn.fetch(
        f"""SELECT {_PAYMENT} FROM payment WHERE status = 'unmatched'
              AND ($1::timestamptz IS NULL OR (created_at, payment_id) > ($1, $2::uuid))
            ORDER BY created_at, payment_id LIMIT $3""",
        None if after is None else after[0],
        None if after is None else after[1],
        limit,
    )
    return [StoredPayment(**dict(r)) for r in rows]


async def upsert_mandate(
    tx: asyncpg.Connection,
    account_number: int,
    mandate_number: str,
    debtor_group: str,
    status: str,
    changed_on: date,
) -> None:
    """The newest change wins (a 0603 delivery may repeat the full list of active ones)."""
    await tx.execute(
        """INSERT INTO mandate (account_number, mandate_number, debtor_group, status, changed_on)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (account_number) DO UPDATE SET mandate_number = EXCLUDED.mandate_number,
               debtor_group = EXCLUDED.debtor_group, status = EXCLUDED.status,
               changed_on = EXCLUDED.changed_on, updated_at = now()
           WHERE mandate.changed_on <= EXCLUDED.changed_on""",
        account_number,
        mandate_number,
        debtor_group,
        status,
        changed_on,
    )


@dataclass(frozen=True)
class Collectable:
    number: str
    account_number: int
    mandate_number: str
    due_date: date
    outstanding: Decimal


async def collectable(conn: asyncpg.Connection, due_until: date) -> list[Collectable]:
    """Open invoices due by *due_until* of payers with an active Betalingsservice mandate,
    not disputed, each for what is outstanding once the payer's credit is used."""
    accounts = """SELECT a.account_id FROM billing_account a
        JOIN mandate m ON m.account_number = a.account_number AND m.status = 'active'"""
    rows = await conn.fetch(
        EFFECTIVE_OPEN.format(accounts=accounts)
        + """
        SELECT e.number, a.account_number, m.mandate_number, e.due_date, e.outstanding
        FROM effective e JOIN billing_account a USING (account_id)
        JOIN mandate m ON m.account_number = a.account_number AND m.status = 'active'
        WHERE e.due_date <= $1 AND e.outstanding > 0 AND NOT EXISTS (
            SELECT 1 FROM dunning d WHERE d.invoice_id = e.invoice_id AND d.disputed)
        ORDER BY a.account_number, e.due_date, e.number""",
        due_until,
    )
    return [Collectable(**dict(r)) for r in rows]


async def next_delivery_number(tx: asyncpg.Connection, year: int) -> int:
    """The next 0601 delivery number (the invoice counter's table, series ``bs0601``)."""
    value: int = await tx.fetchval(
        """INSERT INTO number_counter (series, year, last_number) VALUES ('bs0601', $1, 1)
           ON CONFLICT (series, year)
           DO UPDATE SET last_number = number_counter.last_number + 1
           RETURNING last_number""",
        year,
    )
    return value
