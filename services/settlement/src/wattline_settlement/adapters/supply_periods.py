"""SQL of settlement's copy of the portfolio's supply periods: which of them a run settles,
what a recheck compares with, and who is netted with a solar production point."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from wattline_settlement.domain.billing import Item
from wattline_settlement.domain.model import Period


async def gsrns_of_customer(conn: asyncpg.Connection, customer_id: str) -> list[str]:
    """Every metering point *customer_id* has (had) a supply period at."""
    rows = await conn.fetch(
        "SELECT DISTINCT gsrn FROM supply_periods WHERE customer_id = $1", customer_id
    )
    return [r["gsrn"] for r in rows]


def _item(row: asyncpg.Record) -> Item:
    return Item(
        row["gsrn"],
        str(row["customer_id"]),
        str(row["supply_period_id"]),
        Period(row["start_date"], row["end_date"]),
    )


async def items(
    conn: asyncpg.Connection, period: Period, grid_area: str | None, gsrn: str | None = None
) -> list[Item]:
    """Our supply periods (of one metering point, or all; of one grid area, or all)
    overlapping *period*, clipped (rolled back ones excluded)."""
    rows = await conn.fetch(
        """SELECT sp.supply_period_id, sp.gsrn, sp.customer_id,
                  greatest(sp.start_date, $1) AS start_date,
                  least(coalesce(sp.end_date, $2), $2) AS end_date
           FROM supply_periods sp LEFT JOIN metering_points mp USING (gsrn)
           WHERE sp.reason <> 'rolled_back' AND sp.start_date < $2
             -- production is netted into its consumption; no master data: blocked, not skipped
             AND coalesce(mp.metering_point_type, 'E17') <> 'E18'
             AND coalesce(sp.end_date, $2) > $1
             AND ($3::text IS NULL OR mp.grid_area = $3)
             AND ($4::text IS NULL OR sp.gsrn = $4)
             AND greatest(sp.start_date, $1) < least(coalesce(sp.end_date, $2), $2)
           ORDER BY sp.gsrn, sp.start_date""",
        period.start,
        period.end,
        grid_area,
        gsrn,
    )
    return [_item(r) for r in rows]


async def lock_items(
    tx: asyncpg.Connection, supply_period_ids: Sequence[str], period: Period
) -> list[Item]:
    """The supply periods *supply_period_ids* as they are now, clipped to *period*, locked
    (``FOR SHARE``) until the transaction ends; rolled back or no longer overlapping ones
    are left out."""
    rows = await tx.fetch(
        """SELECT supply_period_id, gsrn, customer_id,
                  greatest(start_date, $2) AS start_date,
                  least(coalesce(end_date, $3), $3) AS end_date
           FROM supply_periods WHERE supply_period_id = ANY($1::uuid[])
             AND reason <> 'rolled_back'
           ORDER BY supply_period_id FOR SHARE""",
        list(supply_period_ids),
        period.start,
        period.end,
    )
    return [_item(r) for r in rows if r["start_date"] < r["end_date"]]


async def get(conn: asyncpg.Connection, supply_period_id: uuid.UUID) -> asyncpg.Record | None:
    """One supply period as stored."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM supply_periods WHERE supply_period_id = $1", supply_period_id
    )
    return row


async def customer_points(
    conn: asyncpg.Connection, gsrn: str, period: Period
) -> list[tuple[str, str]]:
    """The metering points (GSRN, type) of *gsrn*'s customer that we supply in *period*."""
    rows = await conn.fetch(
        """SELECT DISTINCT mp.gsrn, mp.metering_point_type FROM supply_periods own
           JOIN supply_periods sp ON sp.customer_id = own.customer_id
           JOIN metering_points mp ON mp.gsrn = sp.gsrn
           WHERE own.gsrn = $1 AND sp.reason <> 'rolled_back'
             AND sp.start_date < $3 AND coalesce(sp.end_date, $3) > $2
             AND own.start_date < $3 AND coalesce(own.end_date, $3) > $2""",
        gsrn,
        period.start,
        period.end,
    )
    return [(r["gsrn"], r["metering_point_type"]) for r in rows]


async def customers_with_production(
    conn: asyncpg.Connection, customer_ids: Sequence[str]
) -> set[str]:
    """Those of *customer_ids* with a supply period at a production (E18) metering point."""
    rows = await conn.fetch(
        """SELECT DISTINCT sp.customer_id FROM supply_periods sp
           JOIN metering_points mp USING (gsrn)
           WHERE mp.metering_point_type = 'E18' AND sp.customer_id::text = ANY($1::text[])""",
        list(customer_ids),
    )
    return {str(r["customer_id"]) for r in rows}
