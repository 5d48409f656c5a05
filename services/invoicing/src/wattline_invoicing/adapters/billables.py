"""SQL for billables: what settlement settled and corrected, and which invoice billed it.

Which account pays for a billable is found when billing, through the contract that covers the
metering point for the customer on the billable's first day (``_CONTRACT``): a contract may
arrive after the settlement it covers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import asyncpg

from wattline_invoicing.domain.cycles import Frequency
from wattline_invoicing.domain.invoice import Billable, SettledLine

# The contract covering billable b (the newest one that started by its first day).
_CONTRACT = """
    LEFT JOIN LATERAL (
        SELECT c.account_id, c.billing_frequency, c.payment_model
        FROM contract c
        WHERE c.gsrn = b.gsrn AND c.customer_id = b.customer_id
          AND c.start_date <= b.period_start
          AND (c.end_date IS NULL OR c.end_date > b.period_start)
        ORDER BY c.start_date DESC LIMIT 1
    ) c ON true
"""


async def insert(tx: asyncpg.Connection, billable: Billable, customer_id: str) -> bool:
    """Store *billable* once; False when it is stored already (a redelivery)."""
    status: str = await tx.execute(
        """INSERT INTO billable (source_id, kind, corrects, gsrn, customer_id, billing_period,
               period_start, period_end, consumption_kwh, lines, subtotal, vat, total, vat_rate)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (source_id) DO NOTHING""",
        billable.source_id,
        billable.kind,
        billable.corrects,
        billable.gsrn,
        customer_id,
        billable.billing_period,
        billable.period_start,
        billable.period_end,
        billable.consumption_kwh,
        [_line_json(line) for line in billable.lines],
        billable.subtotal,
        billable.vat,
        billable.total,
        billable.vat_rate,
    )
    return status.endswith(" 1")


async def vat_rate_of(conn: asyncpg.Connection, source_id: str) -> Decimal | None:
    """The VAT rate of a stored billable (a correction bills at its settlement's rate)."""
    value: Decimal | None = await conn.fetchval(
        "SELECT vat_rate FROM billable WHERE source_id = $1", source_id
    )
    return value


async def accounts_with_unbilled(
    conn: asyncpg.Connection, frequency: str, last_period: str
) -> list[str]:
    """Accounts billed *frequency* with settlements up to *last_period* (``YYYY-MM``) that no
    invoice has billed yet."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT c.account_id FROM billable b {_CONTRACT}
            WHERE b.invoice_id IS NULL AND b.kind = 'settlement'
              AND b.billing_period <= $2 AND c.billing_frequency = $1
            ORDER BY c.account_id""",
        frequency,
        last_period,
    )
    return [r["account_id"] for r in rows]


async def oldest_unbilled(conn: asyncpg.Connection, frequency: str) -> str | None:
    """The oldest billing period with an unbilled settlement billed at *frequency*."""
    value: str | None = await conn.fetchval(
        f"""SELECT min(b.billing_period) FROM billable b {_CONTRACT}
            WHERE b.invoice_id IS NULL AND b.kind = 'settlement'
              AND c.billing_frequency = $1""",
        frequency,
    )
    return value


async def ended_accounts(conn: asyncpg.Connection) -> list[tuple[str, Frequency, str]]:
    """(account, frequency, newest unbilled period) of accounts with unbilled settlements
    whose contracts all ended by the end of their newest unbilled settlement."""
    rows = await conn.fetch(
        f"""SELECT c.account_id, max(c.billing_frequency) AS frequency,
                   max(b.billing_period) AS last_period, max(b.period_end) AS settled_to
            FROM billable b {_CONTRACT}
            WHERE b.invoice_id IS NULL AND b.kind = 'settlement' AND c.account_id IS NOT NULL
            GROUP BY c.account_id
            HAVING NOT EXISTS (
                SELECT 1 FROM contract x WHERE x.account_id = c.account_id
                  AND (x.end_date IS NULL OR x.end_date > max(b.period_end)))
            ORDER BY c.account_id"""
    )
    return [(r["account_id"], r["frequency"], r["last_period"]) for r in rows]


_UNBILLED = """
    WITH points AS (  -- the accounts' metering points: only their billables are looked at
        SELECT DISTINCT gsrn, customer_id FROM contract WHERE account_id = ANY($1::text[])
    ), own AS (
        SELECT b.source_id, c.account_id, c.payment_model, b.period_start
        FROM billable b JOIN points p ON p.gsrn = b.gsrn AND p.customer_id = b.customer_id
        {contract}
        WHERE b.invoice_id IS NULL AND b.kind = 'settlement'
          AND b.billing_period <= $3 AND c.account_id = ANY($1::text[])
          AND c.billing_frequency = $2
    ), late AS ({late}
    ), wanted AS (
        SELECT source_id, account_id FROM own
        UNION SELECT b.source_id, o.account_id
              FROM billable b JOIN own o ON b.corrects = o.source_id
              WHERE b.kind = 'correction' AND b.invoice_id IS NULL
        UNION SELECT source_id, account_id FROM late
    ), models AS (  -- the payment model of each account's newest contract among them
        SELECT DISTINCT ON (account_id) account_id, payment_model FROM own
        ORDER BY account_id, period_start DESC
    )
    SELECT b.*, w.account_id AS billed_to, m.payment_model
    FROM billable b JOIN wanted w USING (source_id)
    LEFT JOIN models m ON m.account_id = w.account_id
    WHERE b.invoice_id IS NULL  -- again once locked: another issuer may have billed it
    ORDER BY w.account_id, b.source_id
    FOR UPDATE OF b"""


_LATE = """
        SELECT b.source_id, i.account_id FROM billable b
        JOIN billable s ON s.source_id = b.corrects
        JOIN invoice i ON i.invoice_id = s.invoice_id
        WHERE b.invoice_id IS NULL AND b.kind = 'correction'
          AND i.account_id = ANY($1::text[])"""


async def unbilled_for_accounts(
    tx: asyncpg.Connection,
    account_ids: Sequence[str],
    frequency: str,
    last_period: str,
    with_late: bool,
) -> dict[str, tuple[list[Billable], str | None]]:
    """Locked for update, per account: its unbilled settlements up to *last_period*, the
    corrections of those, and (*with_late*) corrections of settlements billed before; and the
    payment model of the newest contract among them. Accounts with none are left out."""
    # Two statements rather than one with a flag: a generic plan would still join every
    # earlier invoice's billables when late corrections are not wanted.
    late = (
        _LATE
        if with_late
        else "SELECT NULL::text AS source_id, NULL::text AS account_id WHERE false"
    )
    sql = _UNBILLED.format(contract=_CONTRACT, late=late)
    rows = await tx.fetch(sql, list(account_ids), frequency, last_period)
    result: dict[str, tuple[list[Billable], str | None]] = {}
    for row in rows:
        items, _ = result.setdefault(row["billed_to"], ([], row["payment_model"]))
        items.append(_billable(row))
    return result


async def unbilled_for_account(
    tx: asyncpg.Connection, account_id: str, frequency: str, last_period: str, with_late: bool
) -> tuple[list[Billable], str | None]:
    """:func:`unbilled_for_accounts` of one account."""
    found = await unbilled_for_accounts(tx, [account_id], frequency, last_period, with_late)
    return found.get(account_id, ([], None))


async def corrections_of_invoiced(conn: asyncpg.Connection) -> list[tuple[uuid.UUID, str]]:
    """(invoice id, account id) of invoices with corrections not billed yet."""
    rows = await conn.fetch(
        """SELECT DISTINCT s.invoice_id, i.account_id
           FROM billable b JOIN billable s ON s.source_id = b.corrects
           JOIN invoice i ON i.invoice_id = s.invoice_id
           WHERE b.kind = 'correction' AND b.invoice_id IS NULL
           ORDER BY s.invoice_id"""
    )
    return [(r["invoice_id"], r["account_id"]) for r in rows]


async def unbilled_corrections_of(tx: asyncpg.Connection, invoice_id: uuid.UUID) -> list[Billable]:
    """Locked for update: the corrections not billed yet of settlements *invoice_id* billed
    (directly, or through an earlier correcting document of it)."""
    rows = await tx.fetch(
        """SELECT b.* FROM billable b JOIN billable s ON s.source_id = b.corrects
           WHERE b.kind = 'correction' AND b.invoice_id IS NULL AND s.invoice_id = $1
           ORDER BY b.source_id
           FOR UPDATE OF b""",
        invoice_id,
    )
    return [_billable(r) for r in rows]


async def consumption_in(
    conn: asyncpg.Connection, gsrns: Sequence[str], periods: Sequence[str]
) -> Decimal | None:
    """kWh settled (with corrections) for *gsrns* in the billing *periods*; None if nothing."""
    value: Decimal | None = await conn.fetchval(
        """SELECT sum(consumption_kwh) FROM billable
           WHERE gsrn = ANY($1::text[]) AND billing_period = ANY($2::text[])""",
        list(gsrns),
        list(periods),
    )
    return value


async def mark_billed(
    tx: asyncpg.Connection, source_ids: Sequence[str], invoice_id: uuid.UUID
) -> None:
    status: str = await tx.execute(
        """UPDATE billable SET invoice_id = $2
           WHERE source_id = ANY($1::text[]) AND invoice_id IS NULL""",
        list(source_ids),
        invoice_id,
    )
    if status != f"UPDATE {len(source_ids)}":  # they were locked: cannot happen
        raise RuntimeError(f"billed {status} of {len(source_ids)} billables")


async def mark_billed_many(tx: asyncpg.Connection, billed: Sequence[tuple[str, uuid.UUID]]) -> None:
    """(source id, invoice id) pairs: each billable billed by its invoice (they are locked)."""
    if not billed:
        return
    status: str = await tx.execute(
        """UPDATE billable b SET invoice_id = x.invoice_id
           FROM unnest($1::text[], $2::uuid[]) AS x(source_id, invoice_id)
           WHERE b.source_id = x.source_id AND b.invoice_id IS NULL""",
        [s for s, _ in billed],
        [i for _, i in billed],
    )
    if status != f"UPDATE {len(billed)}":
        raise RuntimeError(f"billed {status} of {len(billed)} billables")


def _line_json(line: SettledLine) -> dict[str, Any]:
    return {
        "code": line.code,
        "quantity_kwh": None if line.quantity_kwh is None else str(line.quantity_kwh),
        "days": line.days,
        "unit_price": None if line.unit_price is None else str(line.unit_price),
        "amount": str(line.amount),
    }


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _billable(row: asyncpg.Record) -> Billable:
    return Billable(
        source_id=row["source_id"],
        kind=row["kind"],
        gsrn=row["gsrn"],
        billing_period=row["billing_period"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        consumption_kwh=row["consumption_kwh"],
        lines=tuple(
            SettledLine(
                code=line["code"],
                quantity_kwh=_decimal(line["quantity_kwh"]),
                days=line["days"],
                unit_price=_decimal(line["unit_price"]),
                amount=Decimal(line["amount"]),
            )
            for line in row["lines"]
        ),
        subtotal=row["subtotal"],
        vat=row["vat"],
        total=row["total"],
        vat_rate=row["vat_rate"],
        corrects=row["corrects"],
    )
