"""SQL of elvarme (electric heating, reduced electricity tax above a yearly threshold): who
has it, and the reduced rate from each date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import asyncpg

from wattline_settlement.domain.model import PriceVersion


async def register(
    conn: asyncpg.Connection,
    gsrn: str,
    from_date: date,
    opening_kwh: Decimal,
    threshold_kwh: Decimal,
) -> None:
    """*gsrn* has elvarme from *from_date* (*opening_kwh* already counted in that year);
    registering again replaces it."""
    await conn.execute(
        """INSERT INTO elvarme (gsrn, from_date, opening_kwh, threshold_kwh)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (gsrn) DO UPDATE SET from_date = $2, opening_kwh = $3,
               threshold_kwh = $4, updated_at = now()""",
        gsrn,
        from_date,
        opening_kwh,
        threshold_kwh,
    )


async def set_reduced_tax(conn: asyncpg.Connection, valid_from: date, dkk_per_kwh: Decimal) -> None:
    """The reduced electricity tax is *dkk_per_kwh* from *valid_from* (replacing that date's)."""
    await conn.execute(
        """INSERT INTO reduced_electricity_tax (valid_from, dkk_per_kwh) VALUES ($1, $2)
           ON CONFLICT (valid_from) DO UPDATE SET dkk_per_kwh = $2""",
        valid_from,
        dkk_per_kwh,
    )


async def registration(conn: asyncpg.Connection, gsrn: str, before: date) -> asyncpg.Record | None:
    """*gsrn*'s elvarme registration if it applies from before *before*."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM elvarme WHERE gsrn = $1 AND from_date < $2", gsrn, before
    )
    return row


async def registered(conn: asyncpg.Connection, gsrns: Sequence[str]) -> set[str]:
    """Those of *gsrns* with elvarme registered."""
    rows = await conn.fetch("SELECT gsrn FROM elvarme WHERE gsrn = ANY($1)", list(gsrns))
    return {r["gsrn"] for r in rows}


async def reduced_tax_rates(conn: asyncpg.Connection) -> tuple[PriceVersion, ...]:
    """The reduced electricity tax's rates, oldest first."""
    rows = await conn.fetch(
        "SELECT valid_from, dkk_per_kwh FROM reduced_electricity_tax ORDER BY valid_from"
    )
    return tuple(PriceVersion(r["valid_from"], Decimal(r["dkk_per_kwh"])) for r in rows)
