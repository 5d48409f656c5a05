"""SQL for a run's chunks: planned once per attempt, claimed by any worker, counted into the
run in the chunk's own transaction (``migrations/0008_run_chunks.sql``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NamedTuple

import asyncpg


class Chunk(NamedTuple):
    run_id: uuid.UUID
    chunk_no: int
    billing_period: str
    supply_period_ids: list[str]


async def plan(tx: asyncpg.Connection, run_id: uuid.UUID, chunks: Sequence[Sequence[str]]) -> None:
    """Replace the run's chunks by *chunks* (supply period ids each) and count them as left;
    the run is running with no lease (its chunks are what is claimed now)."""
    await tx.execute("DELETE FROM settlement_run_chunk WHERE run_id = $1", run_id)
    await tx.executemany(
        """INSERT INTO settlement_run_chunk (run_id, chunk_no, supply_period_ids)
           VALUES ($1, $2, $3::uuid[])""",
        [(run_id, k, list(ids)) for k, ids in enumerate(chunks)],
    )
    await tx.execute(
        """UPDATE settlement_run SET chunks_left = $2, attempt_started_at = now(),
               lease_owner = NULL, lease_until = NULL
           WHERE run_id = $1""",
        run_id,
        len(chunks),
    )


async def claim(tx: asyncpg.Connection, only: tuple[uuid.UUID, int] | None = None) -> Chunk | None:
    """The next chunk to do of a running run (oldest run first), locked until *tx* ends;
    chunks other workers hold are skipped. *only*: that chunk or none."""
    row = await tx.fetchrow(
        """SELECT c.run_id, c.chunk_no, r.billing_period, c.supply_period_ids::text[] AS ids
           FROM settlement_run_chunk c JOIN settlement_run r USING (run_id)
           WHERE c.done_at IS NULL AND r.status = 'running'
             AND ($1::uuid IS NULL OR (c.run_id = $1 AND c.chunk_no = $2))
           ORDER BY r.requested_at, c.run_id, c.chunk_no
           LIMIT 1 FOR UPDATE OF c SKIP LOCKED""",
        None if only is None else only[0],
        None if only is None else only[1],
    )
    if row is None:
        return None
    return Chunk(row["run_id"], row["chunk_no"], row["billing_period"], list(row["ids"]))


async def done(
    tx: asyncpg.Connection,
    chunk: Chunk,
    worker: str,
    *,
    done: int,
    settled: int,
    blocked: int,
    already_settled: int,
) -> int | None:
    """Mark *chunk* done by *worker* and count it into its run; the chunks the run has left,
    or None when the run is no longer running (failed meanwhile: roll the chunk back). Taken
    last in the chunk's transaction: the run row's lock orders the chunks' commits, so the
    chunk that sees 0 left is the run's last."""
    await tx.execute(
        """UPDATE settlement_run_chunk SET done_by = $3, done_at = now()
           WHERE run_id = $1 AND chunk_no = $2""",
        chunk.run_id,
        chunk.chunk_no,
        worker,
    )
    left: int | None = await tx.fetchval(
        """UPDATE settlement_run SET done_items = done_items + $2,
               settled_items = settled_items + $3, blocked_items = blocked_items + $4,
               already_settled_items = already_settled_items + $5,
               chunks_left = chunks_left - 1
           WHERE run_id = $1 AND status = 'running'
           RETURNING chunks_left""",
        chunk.run_id,
        done,
        settled,
        blocked,
        already_settled,
    )
    return left


async def finish(tx: asyncpg.Connection, run_id: uuid.UUID) -> tuple[str, float]:
    """Finish a running run whose chunks are all done: ``blocked`` while any item is (with
    how many and the first reason), else ``completed``. The status and the attempt's
    seconds."""
    row = await tx.fetchrow(
        """UPDATE settlement_run r
           SET status = CASE WHEN blocked_items > 0 THEN 'blocked' ELSE 'completed' END,
               reason = CASE WHEN blocked_items > 0 THEN left(
                   blocked_items || ' not settled; first: ' || coalesce((
                       SELECT b.reason FROM settlement_blocked b WHERE b.run_id = r.run_id
                       ORDER BY b.gsrn, b.supply_period_id LIMIT 1), '?'), 500) END,
               finished_at = now(), lease_owner = NULL, lease_until = NULL
           WHERE run_id = $1 AND status = 'running'
           RETURNING status,
                     extract(epoch FROM now() - coalesce(attempt_started_at, started_at))
                         AS seconds""",
        run_id,
    )
    assert row is not None, "finish: the run is not running"
    return str(row["status"]), float(row["seconds"] or 0.0)


async def fail(tx: asyncpg.Connection, run_id: uuid.UUID, reason: str) -> float | None:
    """The run failed (a chunk raised): no worker takes its chunks any more. The attempt's
    seconds; None when it was not running (another worker failed or finished it)."""
    seconds = await tx.fetchval(
        """UPDATE settlement_run SET status = 'failed', reason = $2, finished_at = now(),
               lease_owner = NULL, lease_until = NULL
           WHERE run_id = $1 AND status = 'running'
           RETURNING extract(epoch FROM now() - coalesce(attempt_started_at, started_at))""",
        run_id,
        reason[:500],
    )
    return None if seconds is None else float(seconds)


async def open_work(conn: asyncpg.Connection) -> bool:
    """Whether a run is queued or has chunks left (a worker may be holding them)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM settlement_run WHERE status = 'queued')
                   OR EXISTS (SELECT 1 FROM settlement_run_chunk c JOIN settlement_run r
                              USING (run_id) WHERE c.done_at IS NULL AND r.status = 'running')"""
        )
    )
