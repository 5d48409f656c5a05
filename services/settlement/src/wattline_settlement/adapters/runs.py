"""SQL for settlement runs, settlements and corrections."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from wattline_settlement.domain.model import ChargeAmount, Line


def lines_json(lines: Sequence[Line], amounts: Sequence[ChargeAmount] = ()) -> list[dict[str, Any]]:
    """Lines as the jsonb document stored (the pool's codec encodes it), each with what its
    DataHub charges came to (``charges``, when known)."""
    out = []
    for line in lines:
        item: dict[str, Any] = {
            "code": line.code,
            "quantity_kwh": None if line.quantity_kwh is None else str(line.quantity_kwh),
            "days": line.days,
            "amount": str(line.amount),
        }
        parts = [a for a in amounts if a.code == line.code]
        if parts:
            item["charges"] = [
                {
                    "owner_gln": a.owner_gln,
                    "charge_type": a.charge_type,
                    "charge_id": a.charge_id,
                    "quantity_kwh": None if a.quantity_kwh is None else str(a.quantity_kwh),
                    "days": a.days,
                    "amount": str(a.amount),
                }
                for a in parts
            ]
        out.append(item)
    return out


def charge_amounts_from_json(text: str | list[Any]) -> tuple[ChargeAmount, ...]:
    """The per-charge amounts stored with the lines (none for lines stored before them)."""
    items = json.loads(text) if isinstance(text, str) else text
    return tuple(
        ChargeAmount(
            item["code"],
            c["owner_gln"],
            c["charge_type"],
            c["charge_id"],
            None if c["quantity_kwh"] is None else Decimal(c["quantity_kwh"]),
            c["days"],
            Decimal(c["amount"]),
        )
        for item in items
        for c in item.get("charges", ())
    )


def lines_from_json(text: str | list[Any]) -> tuple[Line, ...]:
    items = json.loads(text) if isinstance(text, str) else text
    return tuple(
        Line(
            item["code"],
            None if item["quantity_kwh"] is None else Decimal(item["quantity_kwh"]),
            item["days"],
            Decimal(item["amount"]),
        )
        for item in items
    )


async def create_run(
    conn: asyncpg.Connection,
    billing_period: str,
    grid_area: str | None,
    trigger: str,
    status: str = "queued",
    reason: str | None = None,
) -> uuid.UUID | None:
    """A queued (or waiting) run; None when the schedule already has this period's run."""
    run_id = uuid.uuid4()
    inserted = await conn.fetchval(
        """INSERT INTO settlement_run (run_id, billing_period, grid_area, trigger, status, reason)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING run_id""",
        run_id,
        billing_period,
        grid_area,
        trigger,
        status,
        reason,
    )
    return inserted if inserted is None else run_id


async def claim_run(conn: asyncpg.Connection, owner: str, lease_s: float) -> asyncpg.Record | None:
    """The oldest queued run, or a running one whose worker stopped renewing its lease."""
    return await conn.fetchrow(
        """UPDATE settlement_run SET status = 'running', lease_owner = $1,
               lease_until = now() + make_interval(secs => $2), attempts = attempts + 1,
               started_at = coalesce(started_at, now())
           WHERE run_id = (
               SELECT run_id FROM settlement_run
               WHERE status = 'queued' OR (status = 'running' AND lease_until < now())
               ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING *""",
        owner,
        lease_s,
    )


async def progress(
    conn: asyncpg.Connection,
    run_id: uuid.UUID,
    owner: str,
    lease_s: float,
    *,
    total: int | None = None,
    done: int = 0,
    settled: int = 0,
    blocked: int = 0,
    already_settled: int = 0,
) -> bool:
    """Count progress and renew the lease; False if another worker took the run over."""
    status = await conn.execute(
        """UPDATE settlement_run SET total_items = coalesce($4, total_items),
               done_items = done_items + $5, settled_items = settled_items + $6,
               blocked_items = blocked_items + $7,
               already_settled_items = already_settled_items + $8,
               lease_until = now() + make_interval(secs => $3)
           WHERE run_id = $1 AND lease_owner = $2 AND status = 'running'""",
        run_id,
        owner,
        lease_s,
        total,
        done,
        settled,
        blocked,
        already_settled,
    )
    return bool(status.endswith(" 1"))


async def finish_run(
    conn: asyncpg.Connection, run_id: uuid.UUID, owner: str, status: str, reason: str | None
) -> bool:
    """Finish the run if *owner* still holds it (a worker that lost its lease finishes
    nothing: the run belongs to whoever took it over)."""
    done = await conn.execute(
        """UPDATE settlement_run SET status = $3, reason = $4, finished_at = now(),
               lease_owner = NULL, lease_until = NULL
           WHERE run_id = $1 AND lease_owner = $2 AND status = 'running'""",
        run_id,
        owner,
        status,
        reason,
    )
    return bool(done.endswith(" 1"))


async def finish_settled(
    conn: asyncpg.Connection, run_id: uuid.UUID, owner: str, reason: str | None
) -> str | None:
    """Finish a run that went through all its items: ``blocked`` while any of them is still
    blocked (counted in the row, so one settled meanwhile by another run is not), else
    ``completed``. The status set; None when *owner* lost the run."""
    status: str | None = await conn.fetchval(
        """UPDATE settlement_run
           SET status = CASE WHEN blocked_items > 0 THEN 'blocked' ELSE 'completed' END,
               reason = CASE WHEN blocked_items > 0 THEN $3 END, finished_at = now(),
               lease_owner = NULL, lease_until = NULL
           WHERE run_id = $1 AND lease_owner = $2 AND status = 'running'
           RETURNING status""",
        run_id,
        owner,
        reason,
    )
    return status


async def reset_progress(conn: asyncpg.Connection, run_id: uuid.UUID) -> None:
    """A run taken over restarts its counts (what is settled stays settled)."""
    await conn.execute(
        """UPDATE settlement_run SET done_items = 0, settled_items = 0, blocked_items = 0,
               already_settled_items = 0
           WHERE run_id = $1""",
        run_id,
    )
    await conn.execute("DELETE FROM settlement_blocked WHERE run_id = $1", run_id)


async def settled_keys(
    conn: asyncpg.Connection, billing_period: str, supply_period_ids: Sequence[str]
) -> set[str]:
    rows = await conn.fetch(
        """SELECT supply_period_id FROM settlement WHERE billing_period = $1
           AND supply_period_id = ANY($2::uuid[])""",
        billing_period,
        list(supply_period_ids),
    )
    return {str(r["supply_period_id"]) for r in rows}


async def settled_by(
    conn: asyncpg.Connection, billing_period: str, supply_period_ids: Sequence[str]
) -> dict[str, uuid.UUID]:
    """The run that settled each of *supply_period_ids* in the billing period (if any did)."""
    rows = await conn.fetch(
        """SELECT supply_period_id, run_id FROM settlement WHERE billing_period = $1
           AND supply_period_id = ANY($2::uuid[])""",
        billing_period,
        list(supply_period_ids),
    )
    return {str(r["supply_period_id"]): r["run_id"] for r in rows}


async def insert_settlements(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert settlements; one that exists already (a concurrent worker) is skipped.
    Returns how many were new (the caller publishes only those). A jsonb column takes a
    document or its JSON text."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if not c.startswith("_")]
    # One statement for the whole chunk: each column as an array, unnested in step (jsonb
    # documents travel as text: a list inside an array parameter would be a dimension).
    arrays = ", ".join(
        f"${i}::{'text' if _TYPES[c] == 'jsonb' else _TYPES[c]}[]"
        for i, c in enumerate(columns, start=1)
    )
    selected = ", ".join(f"{c}::jsonb" if _TYPES[c] == "jsonb" else c for c in columns)
    values = [
        [
            json.dumps(row[c])
            if _TYPES[c] == "jsonb" and row[c] is not None and not isinstance(row[c], str)
            else row[c]
            for row in rows
        ]
        for c in columns
    ]
    new = {
        r["settlement_id"]
        for r in await conn.fetch(
            f"""INSERT INTO settlement ({", ".join(columns)})
                SELECT {selected} FROM unnest({arrays}) AS u({", ".join(columns)})
                ON CONFLICT (supply_period_id, billing_period) DO NOTHING
                RETURNING settlement_id""",
            *values,
        )
    }
    for row in rows:
        row["_new"] = row["settlement_id"] in new
    return len(new)


_TYPES = {
    "settlement_id": "uuid",
    "run_id": "uuid",
    "gsrn": "text",
    "customer_id": "uuid",
    "supply_period_id": "uuid",
    "billing_period": "text",
    "grid_area": "text",
    "price_area": "text",
    "period_start": "date",
    "period_end": "date",
    "consumption_kwh": "numeric",
    "lines": "jsonb",
    "subtotal": "numeric",
    "vat": "numeric",
    "total": "numeric",
    "current_start": "date",
    "current_end": "date",
    "current_lines": "jsonb",
    "current_subtotal": "numeric",
    "current_vat": "numeric",
    "current_total": "numeric",
    "current_consumption_kwh": "numeric",
    "data_id": "int8",
}


async def add_blocked(
    conn: asyncpg.Connection, run_id: uuid.UUID, items: Sequence[tuple[str, str, str]]
) -> None:
    await conn.executemany(
        """INSERT INTO settlement_blocked (run_id, gsrn, supply_period_id, reason)
           VALUES ($1, $2, $3::uuid, $4) ON CONFLICT DO NOTHING""",
        [(run_id, gsrn, sp, reason) for gsrn, sp, reason in items],
    )


async def unfinished_runs_covering(conn: asyncpg.Connection, gsrn: str) -> list[str]:
    """Billing periods with a run queued or running whose scope holds *gsrn*."""
    rows = await conn.fetch(
        """SELECT DISTINCT r.billing_period FROM settlement_run r
           WHERE r.status IN ('queued', 'running')
             AND (r.grid_area IS NULL
                  OR r.grid_area = (SELECT grid_area FROM metering_points WHERE gsrn = $1))""",
        gsrn,
    )
    return [row["billing_period"] for row in rows]


async def newest_runs_covering(conn: asyncpg.Connection, gsrn: str) -> list[asyncpg.Record]:
    """Per billing period, the newest finished run whose scope holds *gsrn* (all grid areas,
    or the metering point's own): the run a settlement made later by a recheck belongs to.
    A run of another grid area is never one (its lines are its grid area's only)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT DISTINCT ON (r.billing_period) r.billing_period, r.run_id
           FROM settlement_run r
           WHERE r.status IN ('completed', 'blocked')
             AND (r.grid_area IS NULL
                  OR r.grid_area = (SELECT grid_area FROM metering_points WHERE gsrn = $1))
           ORDER BY r.billing_period, r.requested_at DESC, r.run_id""",
        gsrn,
    )
    return rows


async def blocked_in(
    conn: asyncpg.Connection, run_id: uuid.UUID, supply_period_ids: Sequence[str]
) -> set[str]:
    """Which of *supply_period_ids* the run has as blocked."""
    rows = await conn.fetch(
        """SELECT supply_period_id FROM settlement_blocked
           WHERE run_id = $1 AND supply_period_id = ANY($2::uuid[])""",
        run_id,
        list(supply_period_ids),
    )
    return {str(r["supply_period_id"]) for r in rows}


async def count_late_outcomes(
    conn: asyncpg.Connection,
    run_id: uuid.UUID,
    before: set[str],
    settled: set[str],
    blocked: set[str],
) -> None:
    """A finished run's items settled (or found blocked) after it, on its behalf (a recheck
    of a supply period that now reaches into the run's period): *before* are those it had as
    blocked. Counts and status follow; the blocked rows of *blocked* are already stored."""
    resolved = before & settled
    new = (settled | blocked) - before
    if resolved:
        await conn.execute(
            """DELETE FROM settlement_blocked
               WHERE run_id = $1 AND supply_period_id = ANY($2::uuid[])""",
            run_id,
            sorted(resolved),
        )
    await conn.execute(
        """UPDATE settlement_run SET total_items = total_items + $2,
               done_items = done_items + $2, settled_items = settled_items + $3,
               blocked_items = blocked_items + $4,
               status = CASE WHEN status NOT IN ('completed', 'blocked') THEN status
                             WHEN blocked_items + $4 > 0 THEN 'blocked' ELSE 'completed' END,
               reason = CASE WHEN blocked_items + $4 > 0 THEN reason END
           WHERE run_id = $1""",
        run_id,
        len(new),
        len(settled),
        len(blocked - before) - len(resolved),
    )


async def reconcile_blocked(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Finished runs' blocked items that are settled now (by another run, or by a later
    settlement on the run's behalf) stop counting as blocked: as settled when the settlement
    is the run's own, else as already settled. A run left with none is completed. Returns
    the runs changed with their new status."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """WITH gone AS (
               DELETE FROM settlement_blocked b USING settlement_run r, settlement s
               WHERE r.run_id = b.run_id AND r.status IN ('completed', 'blocked')
                 AND s.supply_period_id = b.supply_period_id
                 AND s.billing_period = r.billing_period
               RETURNING b.run_id, s.run_id = b.run_id AS own),
           counted AS (
               SELECT run_id, count(*) AS n, count(*) FILTER (WHERE own) AS own
               FROM gone GROUP BY run_id)
           UPDATE settlement_run r
           SET blocked_items = r.blocked_items - c.n,
               settled_items = r.settled_items + c.own,
               already_settled_items = r.already_settled_items + c.n - c.own,
               status = CASE WHEN r.blocked_items - c.n > 0 THEN r.status ELSE 'completed' END,
               reason = CASE WHEN r.blocked_items - c.n > 0 THEN r.reason END
           FROM counted c WHERE r.run_id = c.run_id
           RETURNING r.run_id, r.billing_period, r.status"""
    )
    return rows


async def requeue_blocked(
    conn: asyncpg.Connection, after_s: float, max_s: float
) -> list[asyncpg.Record]:
    """Queue blocked runs again, each *after_s* after it finished, doubling with each attempt
    up to *max_s* (data or prices that never come are not asked for every few minutes)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """UPDATE settlement_run SET status = 'queued'
           WHERE status = 'blocked'
             AND finished_at < now() - make_interval(
                 secs => least($1 * power(2, greatest(attempts - 1, 0)), $2))
           RETURNING run_id, billing_period, grid_area, attempts""",
        after_s,
        max_s,
    )
    return rows


async def newest_scheduled(conn: asyncpg.Connection) -> str | None:
    """The newest billing period the schedule has started a run for."""
    value: str | None = await conn.fetchval(
        "SELECT max(billing_period) FROM settlement_run WHERE trigger = 'schedule'"
    )
    return value


async def waiting_runs(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Scheduled runs waiting for their month's data, oldest month first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT run_id, billing_period FROM settlement_run WHERE status = 'waiting'
           ORDER BY billing_period"""
    )
    return rows


async def release_waiting(conn: asyncpg.Connection, run_id: uuid.UUID) -> bool:
    """Queue a waiting run (for any worker to claim)."""
    done = await conn.execute(
        """UPDATE settlement_run SET status = 'queued', reason = NULL
           WHERE run_id = $1 AND status = 'waiting'""",
        run_id,
    )
    return bool(done.endswith(" 1"))


async def note_waiting(conn: asyncpg.Connection, run_id: uuid.UUID, reason: str) -> None:
    """Say why a waiting run still waits."""
    await conn.execute(
        "UPDATE settlement_run SET reason = $2 WHERE run_id = $1 AND status = 'waiting'",
        run_id,
        reason,
    )


async def data_version(conn: asyncpg.Connection) -> tuple[Any, ...]:
    """Changes whenever metering data or a supply period does (cheap: indexes, no arrays)."""
    row = await conn.fetchrow(
        """SELECT (SELECT max(id) FROM metering_data_source) AS data_id,
                  (SELECT max(updated_at) FROM supply_periods) AS supply_at,
                  (SELECT count(*) FROM supply_periods) AS supply_count"""
    )
    assert row is not None
    return tuple(row.values())


async def incomplete_supply(conn: asyncpg.Connection, start: date, end: date) -> tuple[int, int]:
    """``(supply periods, of them incomplete)`` over the local dates ``[start, end)`` (at most
    62 days: a billing period). A supply period of ours (not rolled back; production points
    too, they are netted) is incomplete while a local day of it inside the dates has no
    stored day, or its latest version misses a value.

    One statement: each metering point's stored days become a bit mask (day k is bit k; OR
    needs no DISTINCT over versions), its days with a gap another (from the partial index of
    days with a missing value), and each supply period needs the bits of its own days."""
    if (end - start).days > 62:
        raise ValueError(f"{start}..{end}: at most 62 days")
    row = await conn.fetchrow(
        """WITH stored AS (
               SELECT lpad(gsrn::text, 18, '0') AS gsrn,
                      bit_or(1::int8 << (local_date - $1)) AS days
               FROM metering_data WHERE local_date >= $1 AND local_date < $2
               GROUP BY gsrn),
           gaps AS (
               SELECT lpad(m.gsrn::text, 18, '0') AS gsrn,
                      bit_or(1::int8 << (m.local_date - $1)) AS days
               FROM metering_data m
               WHERE m.local_date >= $1 AND m.local_date < $2
                 AND get_byte(m.payload, 0) & 1 = 1
                 AND m.version = (SELECT max(n.version) FROM metering_data n
                                  WHERE n.gsrn = m.gsrn AND n.local_date = m.local_date)
               GROUP BY m.gsrn),
           items AS (
               SELECT sp.gsrn,
                      (1::int8 << (least(coalesce(sp.end_date, $2), $2) - $1))
                        - (1::int8 << (greatest(sp.start_date, $1) - $1)) AS needed
               FROM supply_periods sp
               WHERE sp.reason <> 'rolled_back' AND sp.start_date < $2
                 AND coalesce(sp.end_date, $2) > $1)
           SELECT count(*) AS items,
                  count(*) FILTER (
                      WHERE coalesce(s.days, 0) & ~coalesce(g.days, 0) & i.needed <> i.needed
                  ) AS incomplete
           FROM items i LEFT JOIN stored s USING (gsrn) LEFT JOIN gaps g USING (gsrn)""",
        start,
        end,
    )
    assert row is not None
    return int(row["items"]), int(row["incomplete"])


async def queue_recheck(
    conn: asyncpg.Connection, gsrns: Sequence[str], reason: str, delay_s: float = 0
) -> None:
    """Queue rechecks. A recheck in progress deletes its row first, so a request made while
    it runs waits for it and is queued again afterwards, never lost."""
    await conn.executemany(
        """INSERT INTO settlement_recheck (gsrn, reason, queued_at)
           VALUES ($1, $2, now() + make_interval(secs => $3))
           ON CONFLICT (gsrn) DO UPDATE SET queued_at = least(settlement_recheck.queued_at,
                                                              EXCLUDED.queued_at)""",
        [(g, reason, delay_s) for g in sorted(set(gsrns))],
    )


# A settlement (not credited) that overlaps the local dates [$1, $2) ($2 NULL: open).
_OVERLAPS = """NOT s.credited AND s.current_start < s.current_end AND s.current_end > $1
               AND ($2::date IS NULL OR s.current_start < $2)"""


async def queue_settled(
    conn: asyncpg.Connection,
    reason: str,
    start: date,
    end: date | None = None,
    *,
    gsrns: Sequence[str] | None = None,
    price_area: str | None = None,
    charge: tuple[str, str, str] | None = None,
) -> list[str]:
    """Queue a recheck (with *reason*) of the metering points with a settlement (not
    credited) overlapping the local dates ``[start, end)`` (``end`` None: open): those of
    *gsrns*, those in *price_area*, or those linked to *charge* (owner GLN, type, id) on some
    day of that overlap (exactly one of the three). Returns the metering points queued."""
    # One statement per kind, so that each is planned for its own index (a metering
    # point's settlements for a link or contract, which arrive by the hundred thousand).
    if gsrns is not None:
        rows = await conn.fetch(
            f"""SELECT DISTINCT s.gsrn FROM settlement s
                WHERE s.gsrn = ANY($3::text[]) AND {_OVERLAPS} ORDER BY s.gsrn""",
            start,
            end,
            list(gsrns),
        )
    elif price_area is not None:
        rows = await conn.fetch(
            f"""SELECT DISTINCT s.gsrn FROM settlement s
                JOIN metering_points mp ON mp.gsrn = s.gsrn
                WHERE mp.price_area = $3 AND {_OVERLAPS} ORDER BY s.gsrn""",
            start,
            end,
            price_area,
        )
    elif charge is not None:
        rows = await conn.fetch(
            f"""SELECT DISTINCT s.gsrn FROM settlement s
                JOIN charge_links l ON l.gsrn = s.gsrn AND l.owner_gln = $3
                     AND l.charge_type = $4 AND l.charge_id = $5
                     AND l.start_date < s.current_end
                     AND coalesce(l.end_date, s.current_end) > s.current_start
                     AND l.start_date < coalesce($2::date, s.current_end)
                     AND coalesce(l.end_date, s.current_end) > $1
                WHERE {_OVERLAPS} ORDER BY s.gsrn""",
            start,
            end,
            *charge,
        )
    else:
        raise ValueError("queue_settled needs gsrns, a price area or a charge")
    queued = [str(r["gsrn"]) for r in rows]
    if queued:
        await queue_recheck(conn, queued, reason)
    return queued


async def claim_recheck(conn: asyncpg.Connection) -> asyncpg.Record | None:
    """Take the next due recheck off the queue (the delete commits with the recheck)."""
    return await conn.fetchrow(
        """DELETE FROM settlement_recheck WHERE gsrn = (
               SELECT gsrn FROM settlement_recheck WHERE queued_at <= now()
               ORDER BY queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING gsrn, reason"""
    )


async def watermark(conn: asyncpg.Connection, name: str) -> int:
    value = await conn.fetchval(
        "SELECT data_id FROM settlement_watermark WHERE name = $1 FOR UPDATE", name
    )
    if value is None:
        await conn.execute(
            "INSERT INTO settlement_watermark (name, data_id) VALUES ($1, 0) "
            "ON CONFLICT DO NOTHING",
            name,
        )
        return 0
    return int(value)


async def set_watermark(conn: asyncpg.Connection, name: str, data_id: int) -> None:
    await conn.execute(
        "UPDATE settlement_watermark SET data_id = greatest(data_id, $2) WHERE name = $1",
        name,
        data_id,
    )


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


async def mark_invoiced(
    conn: asyncpg.Connection,
    settlement_ids: Sequence[str],
    correction_ids: Sequence[str],
    invoice_id: str,
) -> int:
    """Record that *invoice_id* billed these settlements and corrections (what invoicing's
    events say). One marked already (the mark-invoiced API, a redelivery) keeps its mark.
    Returns how many were marked now."""
    marked = 0
    for table, column, ids in (
        ("settlement", "settlement_id", settlement_ids),
        ("settlement_correction", "correction_id", correction_ids),
    ):
        if ids:
            status: str = await conn.execute(
                f"""UPDATE {table} SET invoice_id = $2, invoiced_at = now()
                    WHERE {column} = ANY($1::uuid[]) AND invoice_id IS NULL""",
                list(ids),
                invoice_id,
            )
            marked += int(status.split()[-1])
    return marked


# What can be marked invoiced one at a time (the mark-invoiced API): its table and id column.
INVOICEABLE = (("settlement", "settlement_id"), ("settlement_correction", "correction_id"))


async def invoice_of(conn: asyncpg.Connection, item_id: uuid.UUID) -> tuple[str, str | None] | None:
    """The kind (``settlement`` or ``settlement_correction``) of the settlement or correction
    *item_id* and the invoice it is on (``None``: none yet), locked until the transaction
    ends; ``None`` when there is no such item."""
    for table, column in INVOICEABLE:
        row = await conn.fetchrow(
            f"SELECT invoice_id FROM {table} WHERE {column} = $1 FOR UPDATE", item_id
        )
        if row is not None:
            return table, row["invoice_id"]
    return None


async def set_invoice(
    conn: asyncpg.Connection, kind: str, item_id: uuid.UUID, invoice_id: str
) -> None:
    """Put the *kind* item *item_id* on *invoice_id*; when it was first marked stays."""
    column = dict(INVOICEABLE)[kind]
    await conn.execute(
        f"""UPDATE {kind} SET invoice_id = $2,
                invoiced_at = coalesce(invoiced_at, now()) WHERE {column} = $1""",
        item_id,
        invoice_id,
    )


async def settled_with_newer_data(
    tx: asyncpg.Connection, seen: Sequence[asyncpg.Record]
) -> list[str]:
    """The metering points with a settlement (not credited) in whose current period one of
    the *seen* metering-data rows (``gsrn``, ``local_date``, ``id``) is newer than what it
    used: their own, or the consumption point a production point is netted into."""
    rows = await tx.fetch(
        """WITH md AS (SELECT * FROM unnest($1::text[], $2::date[], $3::int8[])
                       AS md(gsrn, local_date, id)),
                target AS (
                    SELECT md.gsrn AS owner, md.* FROM md
                    UNION ALL
                    SELECT own.gsrn, md.* FROM md
                    JOIN metering_points mp ON mp.gsrn = md.gsrn
                         AND mp.metering_point_type = 'E18'
                    JOIN supply_periods prod ON prod.gsrn = md.gsrn
                    JOIN supply_periods own ON own.customer_id = prod.customer_id
                         AND own.gsrn <> md.gsrn)
           SELECT DISTINCT s.gsrn FROM target t
           JOIN settlement s ON s.gsrn = t.owner AND NOT s.credited AND t.id > s.data_id
                AND t.local_date >= s.current_start AND t.local_date < s.current_end""",
        [r["gsrn"] for r in seen],
        [r["local_date"] for r in seen],
        [r["id"] for r in seen],
    )
    return [r["gsrn"] for r in rows]


async def lock_settlements(tx: asyncpg.Connection, gsrn: str) -> list[asyncpg.Record]:
    """*gsrn*'s settlements (credited ones too) by period, locked ``FOR UPDATE``, each with
    ``lines_now``: its current lines (the first ones while no correction changed them)."""
    rows: list[asyncpg.Record] = await tx.fetch(
        """SELECT *, coalesce(current_lines, lines) AS lines_now FROM settlement
           WHERE gsrn = $1 ORDER BY period_start FOR UPDATE""",
        gsrn,
    )
    return rows


async def advance_data_id(tx: asyncpg.Connection, settlement_id: uuid.UUID, data_id: int) -> None:
    """The settlement has seen the metering data up to row *data_id* (nothing changed)."""
    await tx.execute(
        "UPDATE settlement SET data_id = greatest(data_id, $2) WHERE settlement_id = $1",
        settlement_id,
        data_id,
    )


async def add_correction(
    tx: asyncpg.Connection,
    correction_id: uuid.UUID,
    settlement_id: uuid.UUID,
    reason: str,
    start: date,
    end: date,
    consumption_kwh: Decimal,
    lines: list[dict[str, Any]],
    subtotal: Decimal,
    vat: Decimal,
    total: Decimal,
    data_id: int,
) -> None:
    """Record a correction: the delta to what *settlement_id* was so far."""
    await tx.execute(
        """INSERT INTO settlement_correction (correction_id, settlement_id, reason, period_start,
               period_end, consumption_kwh, lines, subtotal, vat, total, data_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        correction_id,
        settlement_id,
        reason,
        start,
        end,
        consumption_kwh,
        lines,
        subtotal,
        vat,
        total,
        data_id,
    )


async def set_current(
    tx: asyncpg.Connection,
    settlement_id: uuid.UUID,
    start: date,
    end: date,
    lines: list[dict[str, Any]],
    subtotal: Decimal,
    vat: Decimal,
    total: Decimal,
    consumption_kwh: Decimal,
    data_id: int,
    credited: bool,
) -> None:
    """What *settlement_id* is now, with every correction since."""
    await tx.execute(
        """UPDATE settlement SET current_start = $2, current_end = $3, current_lines = $4,
               current_subtotal = $5, current_vat = $6, current_total = $7,
               current_consumption_kwh = $8, data_id = greatest(data_id, $9), credited = $10
           WHERE settlement_id = $1""",
        settlement_id,
        start,
        end,
        lines,
        subtotal,
        vat,
        total,
        consumption_kwh,
        data_id,
        credited,
    )


async def lock_retries(tx: asyncpg.Connection) -> None:
    """One retry of blocked runs at a time (held until the transaction ends)."""
    await tx.execute("SELECT pg_advisory_xact_lock(hashtext('settlement.retry_blocked'))")


async def settled_tax_kwh(conn: asyncpg.Connection, gsrn: str, start: date, end: date) -> Decimal:
    """The electricity tax line's kWh of *gsrn*'s settlements (not credited) inside local
    dates ``[start, end)``: what its elvarme counter counted."""
    settled: Decimal = await conn.fetchval(
        """SELECT coalesce(sum((line ->> 'quantity_kwh')::numeric), 0)
           FROM settlement s, jsonb_array_elements(coalesce(s.current_lines, s.lines)) AS line
           WHERE s.gsrn = $1 AND NOT s.credited AND s.current_start >= $2
             AND s.current_end <= $3 AND line ->> 'code' = 'electricity_tax'""",
        gsrn,
        start,
        end,
    )
    return settled
