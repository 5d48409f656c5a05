"""SQL for bills: what a bill prints besides the document (kWh, last year's kWh, products,
the payment method), the kept PDFs, and product names from the portfolio."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg


@dataclass(frozen=True)
class Facts:
    kwh: dict[str, Decimal]
    kwh_last_year: dict[str, Decimal]
    products: tuple[str, ...]
    mandate: bool
    next_cycle: str | None


async def facts(conn: asyncpg.Connection, invoice_id: uuid.UUID, account_number: int) -> Facts:
    rows = await conn.fetch(
        """SELECT gsrn, billing_period, customer_id, consumption_kwh, kind
           FROM billable WHERE invoice_id = $1""",
        invoice_id,
    )
    kwh: dict[str, Decimal] = {}
    periods: dict[str, set[str]] = {}
    for r in rows:
        kwh[r["gsrn"]] = kwh.get(r["gsrn"], Decimal("0.000")) + r["consumption_kwh"]
        periods.setdefault(r["gsrn"], set()).add(r["billing_period"])
    last_year: dict[str, Decimal] = {}
    for gsrn, months in periods.items():
        before = [f"{int(m[:4]) - 1:04d}{m[4:]}" for m in months]
        value = await conn.fetchval(
            """SELECT sum(consumption_kwh) FROM billable
               WHERE gsrn = $1 AND billing_period = ANY($2::text[])""",
            gsrn,
            before,
        )
        if value is not None:
            last_year[gsrn] = value
    names = await conn.fetch(
        """SELECT DISTINCT coalesce(p.name, c.product_id) AS name
           FROM contract c LEFT JOIN product p
             ON p.product_id = c.product_id AND p.version = c.product_version
           WHERE c.gsrn = ANY($1::text[]) AND c.customer_id = ANY($2::text[])
           ORDER BY 1""",
        list(periods),
        list({r["customer_id"] for r in rows}),
    )
    mandate: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM mandate WHERE account_number = $1 AND status = 'active')",
        account_number,
    )
    prepaid = await conn.fetchrow(
        "SELECT cycle FROM prepayment WHERE invoice_id = $1 ORDER BY cycle LIMIT 1", invoice_id
    )
    next_cycle = None if prepaid is None else prepaid["cycle"]
    return Facts(kwh, last_year, tuple(r["name"] for r in names), mandate, next_cycle)


async def pdf_of(conn: asyncpg.Connection, invoice_id: uuid.UUID) -> bytes | None:
    value: bytes | None = await conn.fetchval(
        "SELECT pdf FROM invoice_pdf WHERE invoice_id = $1", invoice_id
    )
    return value


async def keep_pdf(tx: asyncpg.Connection, invoice_id: uuid.UUID, pdf: bytes) -> bytes:
    """Keep *pdf* unless one is kept already (two renderers at once): the kept one wins."""
    await tx.execute(
        "INSERT INTO invoice_pdf (invoice_id, pdf) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        invoice_id,
        pdf,
    )
    kept: bytes = await tx.fetchval("SELECT pdf FROM invoice_pdf WHERE invoice_id = $1", invoice_id)
    return kept


async def without_pdf(conn: asyncpg.Connection, limit: int) -> list[uuid.UUID]:
    rows = await conn.fetch(
        """SELECT i.invoice_id FROM invoice i
           WHERE NOT EXISTS (SELECT 1 FROM invoice_pdf p WHERE p.invoice_id = i.invoice_id)
           ORDER BY i.issued_at LIMIT $1""",
        limit,
    )
    return [r["invoice_id"] for r in rows]


async def upsert_product(tx: asyncpg.Connection, product_id: str, version: int, name: str) -> None:
    await tx.execute(
        """INSERT INTO product (product_id, version, name) VALUES ($1, $2, $3)
           ON CONFLICT (product_id, version) DO UPDATE SET name = EXCLUDED.name""",
        product_id,
        version,
        name,
    )
