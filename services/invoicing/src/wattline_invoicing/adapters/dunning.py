"""SQL for dunning: which invoices are overdue and where each one stands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from wattline_invoicing.adapters.invoices import EFFECTIVE_OPEN
from wattline_invoicing.domain.dunning import Rate


@dataclass(frozen=True)
class Candidate:
    invoice_id: uuid.UUID
    account_id: str
    number: str
    due_date: date
    outstanding: Decimal
    stage: int | None
    last_step_on: date | None
    interest_from: date | None
    disputed: bool
    handed_off: bool


# A disputed invoice that is overdue already has no step to take: left out, so the many that
# can wait never crowd out the ones that cannot.
_CANDIDATES = (
    EFFECTIVE_OPEN
    + """
    SELECT e.invoice_id, e.account_id, e.number, e.due_date, e.outstanding,
           d.stage, d.last_step_on, d.interest_from, coalesce(d.disputed, false) AS disputed,
           d.handed_off_on IS NOT NULL AS handed_off
    FROM effective e LEFT JOIN dunning d USING (invoice_id)
    WHERE e.due_date < $1 AND e.outstanding > 0 AND d.handed_off_on IS NULL
      AND NOT (coalesce(d.disputed, false) AND d.stage IS NOT NULL)"""
)
_OVERDUE_ACCOUNTS = """SELECT account_id FROM invoice
    WHERE kind = 'invoice' AND status IN ('issued', 'partly_paid') AND amount_due > 0
      AND due_date < $1"""


async def candidates(conn: asyncpg.Connection, today: date, limit: int = 5000) -> list[Candidate]:
    """Invoices past their due date with something outstanding, not handed off yet."""
    sql = _CANDIDATES.format(accounts=_OVERDUE_ACCOUNTS)
    rows = await conn.fetch(sql + " ORDER BY e.due_date, e.invoice_id LIMIT $2", today, limit)
    return [Candidate(**dict(r)) for r in rows]


async def candidate(
    conn: asyncpg.Connection, invoice_id: uuid.UUID, today: date
) -> Candidate | None:
    """One invoice as :func:`candidates` sees it (None: paid, not due, handed off)."""
    sql = _CANDIDATES.format(accounts="SELECT account_id FROM invoice WHERE invoice_id = $2")
    row = await conn.fetchrow(sql + " AND e.invoice_id = $2", today, invoice_id)
    return None if row is None else Candidate(**dict(row))


async def lock(tx: asyncpg.Connection, invoice_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow("SELECT * FROM dunning WHERE invoice_id = $1 FOR UPDATE", invoice_id)


async def start(
    tx: asyncpg.Connection, invoice_id: uuid.UUID, account_id: str, on: date, due: date
) -> bool:
    status: str = await tx.execute(
        """INSERT INTO dunning (invoice_id, account_id, stage, overdue_on, last_step_on,
               interest_from)
           VALUES ($1, $2, 0, $3, $3, $4)
           ON CONFLICT (invoice_id) DO UPDATE SET stage = 0, overdue_on = EXCLUDED.overdue_on,
               last_step_on = EXCLUDED.last_step_on, interest_from = EXCLUDED.interest_from
           WHERE dunning.stage IS NULL""",
        invoice_id,
        account_id,
        on,
        due,
    )
    return status.endswith(" 1")


async def record_reminder(
    tx: asyncpg.Connection,
    invoice_id: uuid.UUID,
    reminder: int,
    on: date,
    fee: Decimal,
    interest: Decimal,
    outstanding: Decimal,
) -> bool:
    status: str = await tx.execute(
        """INSERT INTO reminder (invoice_id, reminder, sent_on, fee, interest, outstanding)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
        invoice_id,
        reminder,
        on,
        fee,
        interest,
        outstanding,
    )
    if status.endswith(" 1"):
        await tx.execute(
            """UPDATE dunning SET stage = $2, last_step_on = $3, interest_from = $3
               WHERE invoice_id = $1""",
            invoice_id,
            reminder,
            on,
        )
        return True
    return False


async def hand_off(tx: asyncpg.Connection, invoice_id: uuid.UUID, on: date) -> None:
    await tx.execute(
        "UPDATE dunning SET handed_off_on = $2, last_step_on = $2 WHERE invoice_id = $1",
        invoice_id,
        on,
    )


async def set_dispute(
    tx: asyncpg.Connection, invoice_id: uuid.UUID, account_id: str, due: date, reason: str | None
) -> None:
    """Register (reason) or resolve (None) a dispute. A claim disputed before it is overdue
    gets a row with no stage yet (it still becomes overdue on its day, then waits); resolving
    a claim never disputed changes nothing."""
    if reason is None:
        await tx.execute(
            "UPDATE dunning SET disputed = false, dispute_reason = NULL WHERE invoice_id = $1",
            invoice_id,
        )
        return
    await tx.execute(
        """INSERT INTO dunning (invoice_id, account_id, stage, overdue_on, last_step_on,
               interest_from, disputed, dispute_reason)
           VALUES ($1, $2, NULL, $3, $3, $3, true, $4)
           ON CONFLICT (invoice_id) DO UPDATE SET disputed = true,
               dispute_reason = EXCLUDED.dispute_reason""",
        invoice_id,
        account_id,
        due,
        reason,
    )


async def rates(conn: asyncpg.Connection) -> list[Rate]:
    rows = await conn.fetch("SELECT valid_from, rate FROM reference_rate ORDER BY valid_from")
    return [Rate(r["valid_from"], r["rate"]) for r in rows]


async def set_rate(tx: asyncpg.Connection, valid_from: date, rate: Decimal) -> None:
    await tx.execute(
        """INSERT INTO reference_rate (valid_from, rate) VALUES ($1, $2)
           ON CONFLICT (valid_from) DO UPDATE SET rate = EXCLUDED.rate""",
        valid_from,
        rate,
    )


@dataclass(frozen=True)
class Claim:
    """A claim handed to debt collection, as the export lists it."""

    number: str
    account_number: int
    issue_date: date
    due_date: date
    amount_due: Decimal
    outstanding: Decimal
    fees: Decimal
    interest: Decimal
    reminders: int
    handed_off_on: date


async def handed_off(conn: asyncpg.Connection, since: date | None) -> list[Claim]:
    rows = await conn.fetch(
        """SELECT i.number, a.account_number, i.issue_date, i.due_date, i.amount_due,
                  i.amount_due - i.credited - coalesce((SELECT sum(x.amount) FROM allocation x
                                           WHERE x.invoice_id = i.invoice_id), 0) AS outstanding,
                  coalesce((SELECT sum(r.fee) FROM reminder r
                            WHERE r.invoice_id = i.invoice_id), 0) AS fees,
                  coalesce((SELECT sum(r.interest) FROM reminder r
                            WHERE r.invoice_id = i.invoice_id), 0) AS interest,
                  d.stage AS reminders, d.handed_off_on
           FROM dunning d JOIN invoice i USING (invoice_id)
           JOIN billing_account a ON a.account_id = i.account_id
           WHERE d.handed_off_on IS NOT NULL AND ($1::date IS NULL OR d.handed_off_on >= $1)
           ORDER BY d.handed_off_on, i.number""",
        since,
    )
    return [Claim(**dict(r)) for r in rows]
