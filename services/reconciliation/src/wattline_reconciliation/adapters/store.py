"""All SQL of the reconciliation service: DataHub's slots, our side, pending days, results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from wattline_reconciliation.domain.energy import (
    COPENHAGEN,
    PointDay,
    SliceDay,
    Slot,
)


# -- DataHub's side ---------------------------------------------------------------------------
async def upsert_slots(tx: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Store DataHub's positions; a slot is replaced only by a version ranked at least as high.
    Rows: (grid_area, mp_type, settlement_method, resolution, slot_start, kwh, rank,
    process_type, settlement_version, datahub_message_id)."""
    await tx.executemany(
        """
        INSERT INTO datahub_slots (grid_area, metering_point_type, settlement_method, resolution,
            slot_start, kwh, version_rank, process_type, settlement_version, datahub_message_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (grid_area, metering_point_type, settlement_method, resolution, slot_start)
        DO UPDATE SET kwh = EXCLUDED.kwh, version_rank = EXCLUDED.version_rank,
            process_type = EXCLUDED.process_type,
            settlement_version = EXCLUDED.settlement_version,
            datahub_message_id = EXCLUDED.datahub_message_id, received_at = now()
        WHERE datahub_slots.version_rank <= EXCLUDED.version_rank
        """,
        rows,
    )


# -- our side ---------------------------------------------------------------------------------
async def upsert_metering_point(
    tx: asyncpg.Connection, gsrn: str, grid_area: str, mp_type: str, method: str, resolution: str
) -> str | None:
    """Store where *gsrn* is; returns the grid area it was in before (None: new)."""
    before: str | None = await tx.fetchval(
        "SELECT grid_area FROM metering_points WHERE gsrn = $1", gsrn
    )
    await tx.execute(
        """
        INSERT INTO metering_points (gsrn, grid_area, metering_point_type, settlement_method,
            resolution)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (gsrn) DO UPDATE SET grid_area = EXCLUDED.grid_area,
            metering_point_type = EXCLUDED.metering_point_type,
            settlement_method = EXCLUDED.settlement_method, resolution = EXCLUDED.resolution
        """,
        gsrn,
        grid_area,
        mp_type,
        method,
        resolution,
    )
    return before


async def upsert_supply_period(
    tx: asyncpg.Connection,
    supply_period_id: str,
    gsrn: str,
    start: date,
    end: date | None,
    void: bool,
) -> None:
    await tx.execute(
        """
        INSERT INTO supply_periods (supply_period_id, gsrn, start_date, end_date, void)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (supply_period_id) DO UPDATE SET gsrn = EXCLUDED.gsrn,
            start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, void = EXCLUDED.void
        """,
        supply_period_id,
        gsrn,
        start,
        end,
        void,
    )


async def upsert_metering_day(
    tx: asyncpg.Connection,
    gsrn: str,
    day: date,
    resolution: str,
    wh: list[int | None],
    sent: list[bool],
) -> None:
    """Store a day's values; the positions not *sent* keep the stored day's values (a day at
    another resolution is replaced whole)."""
    await tx.execute(
        """
        INSERT INTO metering_days (gsrn, local_date, resolution, wh) VALUES ($1, $2, $3, $4)
        ON CONFLICT (gsrn, local_date) DO UPDATE SET resolution = EXCLUDED.resolution,
            wh = CASE
                WHEN metering_days.resolution = EXCLUDED.resolution
                 AND cardinality(metering_days.wh) = cardinality(EXCLUDED.wh)
                THEN ARRAY(
                    SELECT CASE WHEN u.sent THEN u.new ELSE u.old END
                    FROM unnest(EXCLUDED.wh, $5::bool[], metering_days.wh)
                         WITH ORDINALITY AS u(new, sent, old, i)
                    ORDER BY u.i)
                ELSE EXCLUDED.wh
            END
        """,
        gsrn,
        day,
        resolution,
        wh,
        sent,
    )


# -- what to reconcile ------------------------------------------------------------------------
async def mark_pending(tx: asyncpg.Connection, grid_area: str, days: Sequence[date]) -> None:
    await tx.executemany(
        # New data makes a day deferred for a gap due at once.
        """INSERT INTO pending_days (grid_area, local_date) VALUES ($1, $2)
           ON CONFLICT (grid_area, local_date) DO UPDATE SET not_before = '-infinity'""",
        [(grid_area, day) for day in days],
    )


async def mark_point_days(
    tx: asyncpg.Connection, gsrn: str, grid_areas: Sequence[str], day: date | None = None
) -> None:
    """Mark the days *gsrn* has metering data for (only *day*, if given) in *grid_areas*."""
    await tx.execute(
        """
        INSERT INTO pending_days (grid_area, local_date)
        SELECT DISTINCT g, d.local_date FROM metering_days d, unnest($2::text[]) g
        WHERE d.gsrn = $1 AND ($3::date IS NULL OR d.local_date = $3)
        ON CONFLICT (grid_area, local_date) DO UPDATE SET not_before = '-infinity'
        """,
        gsrn,
        list(grid_areas),
        day,
    )


async def grid_area_of(tx: asyncpg.Connection, gsrn: str) -> str | None:
    value: str | None = await tx.fetchval(
        "SELECT grid_area FROM metering_points WHERE gsrn = $1", gsrn
    )
    return value


async def claim_pending(tx: asyncpg.Connection, limit: int) -> list[tuple[str, date]]:
    """Take up to *limit* pending days that are due (locked: another worker skips them)."""
    rows = await tx.fetch(
        """
        DELETE FROM pending_days WHERE (grid_area, local_date) IN (
            SELECT grid_area, local_date FROM pending_days WHERE not_before <= now()
            ORDER BY local_date, grid_area LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING grid_area, local_date
        """,
        limit,
    )
    return sorted((r["grid_area"], r["local_date"]) for r in rows)


def _utc_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=COPENHAGEN)
    nxt = day + timedelta(days=1)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=COPENHAGEN)


async def load_day(
    tx: asyncpg.Connection, grid_area: str, day: date
) -> tuple[dict[tuple[str, str], list[Slot]], dict[tuple[str, str], list[PointDay]]]:
    """DataHub's slots and our supplied points (with that day's data) of one grid-area day,
    each by (metering-point type, settlement method)."""
    start, end = _utc_bounds(day)
    slots: dict[tuple[str, str], list[Slot]] = {}
    for r in await tx.fetch(
        """
        SELECT metering_point_type, settlement_method, resolution, slot_start, kwh
        FROM datahub_slots WHERE grid_area = $1 AND slot_start >= $2 AND slot_start < $3
        """,
        grid_area,
        start,
        end,
    ):
        key = (r["metering_point_type"], r["settlement_method"])
        slots.setdefault(key, []).append(Slot(r["resolution"], r["slot_start"], r["kwh"]))
    points: dict[tuple[str, str], list[PointDay]] = {}
    for r in await tx.fetch(
        """
        SELECT m.gsrn, m.metering_point_type, m.settlement_method,
               coalesce(d.resolution, m.resolution) AS resolution, d.wh
        FROM metering_points m
        LEFT JOIN metering_days d ON d.gsrn = m.gsrn AND d.local_date = $2
        WHERE m.grid_area = $1 AND EXISTS (
            SELECT 1 FROM supply_periods s WHERE s.gsrn = m.gsrn AND NOT s.void
              AND s.start_date <= $2 AND (s.end_date IS NULL OR s.end_date > $2))
        ORDER BY m.gsrn
        """,
        grid_area,
        day,
    ):
        key = (r["metering_point_type"], r["settlement_method"])
        points.setdefault(key, []).append(PointDay(r["gsrn"], r["resolution"], r["wh"]))
    return slots, points


async def fingerprints(
    tx: asyncpg.Connection, grid_area: str, day: date
) -> dict[tuple[str, str], str | None]:
    rows = await tx.fetch(
        """
        SELECT metering_point_type, settlement_method, deviation_fingerprint FROM day_results
        WHERE grid_area = $1 AND local_date = $2
        """,
        grid_area,
        day,
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def replace_results(
    tx: asyncpg.Connection, grid_area: str, day: date, slices: Sequence[SliceDay]
) -> None:
    """The day's results as *slices* say (the hours go with their day row)."""
    await tx.execute(
        "DELETE FROM day_results WHERE grid_area = $1 AND local_date = $2", grid_area, day
    )
    await tx.executemany(
        """
        INSERT INTO day_results (grid_area, local_date, metering_point_type, settlement_method,
            status, datahub_kwh, ours_kwh, deviation_kwh, hours_matched, hours_deviating,
            hours_missing_ours, hours_missing_datahub, deviation_fingerprint)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        """,
        [
            (
                grid_area,
                day,
                s.metering_point_type,
                s.settlement_method,
                s.status,
                s.datahub_kwh,
                s.ours_kwh,
                s.deviation_kwh,
                s.count("matched"),
                s.count("deviation"),
                s.count("missing_ours"),
                s.count("missing_datahub"),
                s.fingerprint(),
            )
            for s in slices
        ],
    )
    await tx.executemany(
        """
        INSERT INTO hour_results (grid_area, local_date, metering_point_type, settlement_method,
            position, hour_start, status, datahub_kwh, ours_kwh, deviation_kwh,
            deviation_percent, points, points_missing)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        """,
        [
            (
                grid_area,
                day,
                s.metering_point_type,
                s.settlement_method,
                h.position,
                h.hour_start,
                h.status,
                h.datahub_kwh,
                h.ours_kwh,
                h.deviation_kwh,
                h.deviation_percent,
                h.points,
                h.points_missing,
            )
            for s in slices
            for h in s.hours
        ],
    )


async def totals_by_grid_area(db: Any) -> list[asyncpg.Record]:
    """Per grid area: hours deviating, their absolute kWh, hours missing on each side."""
    rows: list[asyncpg.Record] = await db.fetch(
        """
        SELECT grid_area,
               count(*) FILTER (WHERE status = 'deviation') AS deviating,
               coalesce(sum(abs(deviation_kwh)) FILTER (WHERE status = 'deviation'), 0) AS kwh,
               count(*) FILTER (WHERE status = 'missing_ours') AS missing_ours,
               count(*) FILTER (WHERE status = 'missing_datahub') AS missing_datahub
        FROM hour_results GROUP BY grid_area
        """
    )
    return rows


# -- read models ------------------------------------------------------------------------------
async def list_results(
    db: Any,
    *,
    first: date | None,
    last: date | None,
    grid_area: str | None,
    status: str | None,
    after: tuple[date, str, str, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Day results in (date, grid area, type, method) order after the keyset *after*."""
    rows: list[asyncpg.Record] = await db.fetch(
        """
        SELECT * FROM day_results
        WHERE ($1::date IS NULL OR local_date >= $1) AND ($2::date IS NULL OR local_date <= $2)
          AND ($3::text IS NULL OR grid_area = $3) AND ($4::text IS NULL OR status = $4)
          AND ($5::date IS NULL
               OR (local_date, grid_area, metering_point_type, settlement_method)
                  > ($5, $6::text, $7::text, $8::text))
        ORDER BY local_date, grid_area, metering_point_type, settlement_method
        LIMIT $9
        """,
        first,
        last,
        grid_area,
        status,
        *(after or (None, None, None, None)),
        limit,
    )
    return rows


async def day_hours(db: Any, grid_area: str, day: date) -> tuple[list[Any], list[Any]]:
    days = await db.fetch(
        """
        SELECT * FROM day_results WHERE grid_area = $1 AND local_date = $2
        ORDER BY metering_point_type, settlement_method
        """,
        grid_area,
        day,
    )
    hours = await db.fetch(
        """
        SELECT * FROM hour_results WHERE grid_area = $1 AND local_date = $2
        ORDER BY metering_point_type, settlement_method, position
        """,
        grid_area,
        day,
    )
    return list(days), list(hours)


async def add_request(
    tx: asyncpg.Connection,
    request_id: Any,
    kind: str,
    grid_area: str | None,
    gsrn: str | None,
    mp_type: str | None,
    start: date,
    end: date,
    automatic: bool = False,
) -> bool:
    """Record a request; False when it is an automatic one for a gap already asked about."""
    status: str = await tx.execute(
        """
        INSERT INTO data_requests (request_id, kind, grid_area, gsrn, metering_point_type,
            start_date, end_date, automatic)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT DO NOTHING
        """,
        request_id,
        kind,
        grid_area,
        gsrn,
        mp_type,
        start,
        end,
        automatic,
    )
    return status.endswith(" 1")
