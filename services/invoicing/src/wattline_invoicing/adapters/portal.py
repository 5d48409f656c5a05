"""SQL of the customer portal: a customer's own documents and payments.

A customer's billing account is the one whose id is the customer's (a customer who pays for
themselves; a separate payer's account is the payer's, and the payer is not the portal's
customer). Nothing here takes an account id from a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from wattline_invoicing.adapters.invoices import _COLUMNS, Issued


async def document(conn: asyncpg.Connection, account_id: str, number: str) -> Issued | None:
    """The invoice or credit note numbered *number* when it is *account_id*'s, else None."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM invoice WHERE number = $1 AND account_id = $2",
        number,
        account_id,
    )
    return None if row is None else Issued(**dict(row))


async def numbers(conn: asyncpg.Connection, invoice_ids: list[object]) -> dict[object, str]:
    """invoice id -> number (what a credit note corrects, in customer terms)."""
    if not invoice_ids:
        return {}
    rows = await conn.fetch(
        "SELECT invoice_id, number FROM invoice WHERE invoice_id = ANY($1::uuid[])",
        invoice_ids,
    )
    return {r["invoice_id"]: r["number"] for r in rows}


async def outstanding(conn: asyncpg.Connection, account_id: str) -> dict[object, Decimal]:
    """invoice id -> what its payments and credit notes have not yet paid of it (>= 0)."""
    rows = await conn.fetch(
        """SELECT i.invoice_id,
                  greatest(0.00, i.amount_due - i.credited
                              - coalesce((SELECT sum(a.amount) FROM allocation a
                                          WHERE a.invoice_id = i.invoice_id), 0)) AS left
           FROM invoice i WHERE i.account_id = $1 AND i.kind = 'invoice'""",
        account_id,
    )
    return {r["invoice_id"]: r["left"] for r in rows}


@dataclass(frozen=True)
class PaidInvoice:
    number: str
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    received_on: date
    amount: Decimal
    method: str
    status: str
    pays: tuple[PaidInvoice, ...]


async def payments(conn: asyncpg.Connection, account_id: str) -> list[Payment]:
    """The payments booked to *account_id*, newest first, with the invoices each pays."""
    rows = await conn.fetch(
        """SELECT p.payment_id, p.received_on, p.amount, p.source, p.status,
                  coalesce(array_agg(i.number ORDER BY i.number)
                           FILTER (WHERE i.number IS NOT NULL), '{}') AS numbers,
                  coalesce(array_agg(a.amount ORDER BY i.number)
                           FILTER (WHERE i.number IS NOT NULL), '{}') AS amounts
           FROM payment p
           LEFT JOIN allocation a USING (payment_id)
           LEFT JOIN invoice i ON i.invoice_id = a.invoice_id
           WHERE p.account_id = $1
           GROUP BY p.payment_id
           ORDER BY p.received_on DESC, p.created_at DESC""",
        account_id,
    )
    return [
        Payment(
            r["received_on"],
            r["amount"],
            r["source"],
            r["status"],
            tuple(PaidInvoice(n, a) for n, a in zip(r["numbers"], r["amounts"], strict=True)),
        )
        for r in rows
    ]


async def balance(conn: asyncpg.Connection, account_id: str) -> Decimal:
    """The sum of *account_id*'s ledger (> 0: the customer owes us)."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(amount), 0.00) FROM ledger_entry WHERE account_id = $1", account_id
    )
    return Decimal(value)


async def has_account(conn: asyncpg.Connection, account_id: str) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM billing_account WHERE account_id = $1)", account_id
    )
    return found
