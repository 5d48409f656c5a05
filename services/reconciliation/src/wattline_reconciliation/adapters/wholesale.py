"""All SQL of wholesale reconciliation: DataHub's RSM-019 per charge, what we billed, results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from wattline_reconciliation.domain.wholesale import (
    ChargeKey,
    ChargeResult,
    SeriesKey,
    charge_totals,
)


async def upsert_datahub(
    tx: asyncpg.Connection, grid_area: str, month: str, series: SeriesKey, amount: Decimal,
    rank: tuple[int, int], message_id: str,
) -> None:  # fmt: skip
    """DataHub's amount of one series in a month; replaced only by a series ranked at least
    as high (settlement version, then calculation version): an older one is ignored."""
    charge = series.charge
    await tx.execute(
        """
        INSERT INTO wholesale_datahub (grid_area, billing_period, charge_owner_gln, charge_type,
            charge_id, metering_point_type, settlement_method, amount_dkk, version_rank,
            calculation_rank, datahub_message_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (grid_area, billing_period, charge_owner_gln, charge_type, charge_id,
            metering_point_type, settlement_method)
        DO UPDATE SET amount_dkk = EXCLUDED.amount_dkk, version_rank = EXCLUDED.version_rank,
            calculation_rank = EXCLUDED.calculation_rank,
            datahub_message_id = EXCLUDED.datahub_message_id, received_at = now()
        WHERE (wholesale_datahub.version_rank, wholesale_datahub.calculation_rank)
              <= (EXCLUDED.version_rank, EXCLUDED.calculation_rank)
        """,
        grid_area, month, charge.owner_gln, charge.charge_type, charge.charge_id,
        series.metering_point_type, series.settlement_method, amount, rank[0], rank[1],
        message_id,
    )  # fmt: skip


async def add_settlement(
    tx: asyncpg.Connection, settlement_id: str, grid_area: str, month: str, settled_at: datetime
) -> bool:
    """Record a settlement; False when a later event of it is held already (this one is
    stale). A later event of the same settlement replaces its grid area and month."""
    row = await tx.fetchval(
        """INSERT INTO wholesale_settlements (settlement_id, grid_area, billing_period,
               settled_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (settlement_id) DO UPDATE SET grid_area = EXCLUDED.grid_area,
               billing_period = EXCLUDED.billing_period, settled_at = EXCLUDED.settled_at
           WHERE wholesale_settlements.settled_at <= EXCLUDED.settled_at
           RETURNING settlement_id""",
        settlement_id,
        grid_area,
        month,
        settled_at,
    )
    return row is not None


async def forget_billed(tx: asyncpg.Connection, source_id: str) -> None:
    """Drop what one settlement or correction billed (a newer event of it replaces it)."""
    await tx.execute("DELETE FROM wholesale_billed WHERE source_id = $1", source_id)


async def add_billed(
    tx: asyncpg.Connection,
    source_id: str,
    settlement_id: str,
    month: str,
    amounts: Sequence[tuple[ChargeKey, Decimal]],
) -> None:
    """What one settlement or correction billed per charge (a charge twice: summed)."""
    summed: dict[ChargeKey, Decimal] = {}
    for charge, amount in amounts:
        summed[charge] = summed.get(charge, Decimal(0)) + amount
    await tx.executemany(
        """
        INSERT INTO wholesale_billed (source_id, settlement_id, billing_period, charge_owner_gln,
            charge_type, charge_id, amount_dkk)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
        """,
        [
            (source_id, settlement_id, month, c.owner_gln, c.charge_type, c.charge_id, a)
            for c, a in sorted(summed.items())
        ],
    )


async def grid_area_of(tx: asyncpg.Connection, settlement_id: str) -> str | None:
    value: str | None = await tx.fetchval(
        "SELECT grid_area FROM wholesale_settlements WHERE settlement_id = $1", settlement_id
    )
    return value


async def mark_pending(tx: asyncpg.Connection, grid_area: str, month: str) -> None:
    await tx.execute(
        "INSERT INTO wholesale_pending VALUES ($1, $2) ON CONFLICT DO NOTHING", grid_area, month
    )


async def mark_settlement_pending(tx: asyncpg.Connection, settlement_id: str) -> None:
    """A settlement whose corrections may have arrived first: its month is pending again."""
    await tx.execute(
        """INSERT INTO wholesale_pending (grid_area, billing_period)
           SELECT grid_area, billing_period FROM wholesale_settlements WHERE settlement_id = $1
           ON CONFLICT DO NOTHING""",
        settlement_id,
    )


async def pending(db: Any, limit: int) -> list[tuple[str, str]]:
    """Up to *limit* grid-area months waiting to be reconciled, oldest month first."""
    rows = await db.fetch(
        """SELECT grid_area, billing_period FROM wholesale_pending
           ORDER BY billing_period, grid_area LIMIT $1""",
        limit,
    )
    return [(r["grid_area"], r["billing_period"]) for r in rows]


async def claim(tx: asyncpg.Connection, grid_area: str, month: str) -> bool:
    """Take one pending grid-area month for this transaction (False: gone, or another worker
    has it). Rolled back, it is pending again."""
    row = await tx.fetchval(
        """DELETE FROM wholesale_pending WHERE (grid_area, billing_period) IN (
               SELECT grid_area, billing_period FROM wholesale_pending
               WHERE grid_area = $1 AND billing_period = $2 FOR UPDATE SKIP LOCKED)
           RETURNING grid_area""",
        grid_area,
        month,
    )
    return row is not None


async def load_month(
    tx: asyncpg.Connection, grid_area: str, month: str
) -> tuple[dict[ChargeKey, Decimal], dict[ChargeKey, Decimal]]:
    """DataHub's amounts (its series summed) and ours (settlements with their corrections)
    per charge."""
    datahub = charge_totals(
        {
            SeriesKey(ChargeKey(r[0], r[1], r[2]), r[3], r[4]): r[5]
            for r in await tx.fetch(
                """SELECT charge_owner_gln, charge_type, charge_id, metering_point_type,
                          settlement_method, amount_dkk
                   FROM wholesale_datahub WHERE grid_area = $1 AND billing_period = $2""",
                grid_area,
                month,
            )
        }
    )
    ours = {
        ChargeKey(r[0], r[1], r[2]): r[3]
        for r in await tx.fetch(
            """SELECT b.charge_owner_gln, b.charge_type, b.charge_id, sum(b.amount_dkk)
               FROM wholesale_billed b JOIN wholesale_settlements s USING (settlement_id)
               WHERE s.grid_area = $1 AND s.billing_period = $2
               GROUP BY 1, 2, 3""",
            grid_area,
            month,
        )
    }
    return datahub, ours


async def fingerprints(
    tx: asyncpg.Connection, grid_area: str, month: str
) -> dict[ChargeKey, str | None]:
    rows = await tx.fetch(
        """SELECT charge_owner_gln, charge_type, charge_id, deviation_fingerprint
           FROM wholesale_results WHERE grid_area = $1 AND billing_period = $2""",
        grid_area,
        month,
    )
    return {ChargeKey(r[0], r[1], r[2]): r[3] for r in rows}


async def replace_results(
    tx: asyncpg.Connection, grid_area: str, month: str, results: Sequence[ChargeResult]
) -> None:
    await tx.execute(
        "DELETE FROM wholesale_results WHERE grid_area = $1 AND billing_period = $2",
        grid_area,
        month,
    )
    await tx.executemany(
        """
        INSERT INTO wholesale_results (grid_area, billing_period, charge_owner_gln, charge_type,
            charge_id, status, datahub_dkk, ours_dkk, deviation_dkk, deviation_percent,
            deviation_fingerprint)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """,
        [
            (
                grid_area,
                month,
                r.charge.owner_gln,
                r.charge.charge_type,
                r.charge.charge_id,
                r.status,
                r.datahub_dkk,
                r.ours_dkk,
                r.deviation_dkk,
                r.deviation_percent,
                r.fingerprint(),
            )
            for r in results
        ],
    )


async def totals_by_grid_area(db: Any) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """
        SELECT grid_area,
               count(*) FILTER (WHERE status = 'deviation') AS deviating,
               coalesce(sum(abs(deviation_dkk)) FILTER (WHERE status = 'deviation'), 0) AS dkk
        FROM wholesale_results GROUP BY grid_area
        """
    )
    return rows


async def list_results(
    db: Any,
    *,
    month: str | None,
    grid_area: str | None,
    status: str | None,
    after: tuple[str, str, str, str, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Results in (month, grid area, owner, type, id) order after the keyset *after*."""
    rows: list[asyncpg.Record] = await db.fetch(
        """
        SELECT * FROM wholesale_results
        WHERE ($1::text IS NULL OR billing_period = $1) AND ($2::text IS NULL OR grid_area = $2)
          AND ($3::text IS NULL OR status = $3)
          AND ($4::text IS NULL
               OR (billing_period, grid_area, charge_owner_gln, charge_type, charge_id)
                  > ($4, $5::text, $6::text, $7::text, $8::text))
        ORDER BY billing_period, grid_area, charge_owner_gln, charge_type, charge_id
        LIMIT $9
        """,
        month,
        grid_area,
        status,
        *(after or (None, None, None, None, None)),
        limit,
    )
    return rows


async def billed_by_settlement(
    db: Any, grid_area: str, month: str, charge: ChargeKey
) -> list[asyncpg.Record]:
    """The drill-down: what each of our settlements (corrections added) billed for a charge."""
    rows: list[asyncpg.Record] = await db.fetch(
        """
        SELECT b.settlement_id, sum(b.amount_dkk) AS amount_dkk, count(*) AS sources
        FROM wholesale_billed b JOIN wholesale_settlements s USING (settlement_id)
        WHERE s.grid_area = $1 AND s.billing_period = $2 AND b.charge_owner_gln = $3
          AND b.charge_type = $4 AND b.charge_id = $5
        GROUP BY b.settlement_id ORDER BY b.settlement_id
        """,
        grid_area, month, charge.owner_gln, charge.charge_type, charge.charge_id,
    )  # fmt: skip
    return rows
