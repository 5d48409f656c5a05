"""The inbox: deduplicate consumed events by id, in the same transaction as their effect,
and forget them once no redelivery can come (:func:`pruner`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import asyncpg

from wattline_platform.retention import Pruner


async def record(tx: asyncpg.Connection, event_id: uuid.UUID, topic: str, event_type: str) -> bool:
    """Record *event_id*; True when it is new (apply the effect), False for a duplicate."""
    inserted = await tx.fetchval(
        """INSERT INTO inbox (event_id, topic, event_type) VALUES ($1, $2, $3)
           ON CONFLICT (event_id) DO NOTHING RETURNING true""",
        event_id,
        topic,
        event_type,
    )
    return bool(inserted)


async def record_many(
    tx: asyncpg.Connection, events: Sequence[tuple[uuid.UUID, str, str]]
) -> set[uuid.UUID]:
    """Record a batch of ``(event_id, topic, type)``; return the ids that were new."""
    if not events:
        return set()
    rows = await tx.fetch(
        """INSERT INTO inbox (event_id, topic, event_type)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
           ON CONFLICT (event_id) DO NOTHING RETURNING event_id""",
        [e[0] for e in events],
        [e[1] for e in events],
        [e[2] for e in events],
    )
    return {r["event_id"] for r in rows}


# --- retention ------------------------------------------------------------------------------
#
# An inbox row is the only thing that makes a redelivered event a duplicate, so it may go only
# once no delivery of that event can come any more. Why ``processed_at + broker retention +
# replay window + margin`` is such a time, for an inbox row processed at P of an event whose
# outbox row was written at T (T <= P: it was consumed after it was written):
#
# * A delivery needs a record on the broker. A record published at time Pub is kept until
#   Pub + the topic's ``retention.ms`` (deploy/topics.yaml; `longest_retention` takes the
#   longest of them), and a consumer group that starts afresh reads no older record than that.
# * An event is (re-)published only from its outbox row: at first, after a broker reset (the
#   relay re-publishes everything retained) or by `wattline replay`. The relay deletes a
#   published row once it is ``outbox_retention_days`` old, so no publish happens after
#   T + outbox retention (+ the relay's lag, when a replay was scheduled just before).
# * So the last delivery is before T + outbox retention + broker retention + lag, which is
#   before P + the same. The margin (at least a day) covers the relay's lag and clock skew.
#
# The outbox retention that matters is the *producer's*; every service has the same default
# (30 days), and a deployer who raises one service's must raise its consumers' inbox retention
# with it. Dead-lettered events are never recorded in the inbox, so they need no row.

MIN_MARGIN = timedelta(days=1)


class RetentionTooShort(SystemExit):
    """The configured inbox retention would forget events a redelivery can still bring.

    A ``SystemExit`` so a service refuses to start with this one line rather than a traceback.
    """


def check_retention(
    retention: timedelta, *, broker_retention: timedelta | None, replay_window: timedelta
) -> None:
    """Refuse an inbox *retention* that does not outlast every possible redelivery (see above).

    *broker_retention* is None when some topic keeps its records forever: then no retention
    is safe. Raises :class:`RetentionTooShort` naming the bound.
    """
    if broker_retention is None:
        raise RetentionTooShort(
            "inbox retention: a topic keeps its records forever (retention.ms -1 or unset), so "
            "no inbox row may ever be deleted; set the inbox retention to 0 (keep forever)"
        )
    minimum = broker_retention + replay_window + MIN_MARGIN
    if retention < minimum:
        raise RetentionTooShort(
            f"inbox retention {retention.days} days is shorter than the longest topic "
            f"retention ({broker_retention}) + the outbox's replay window ({replay_window}) "
            f"+ a margin of {MIN_MARGIN}: at least {minimum.days} days"
        )


async def delete_older(
    conn: asyncpg.Connection, schema: str, retention: timedelta, limit: int
) -> int:
    """Delete at most *limit* of *schema*'s inbox rows processed longer than *retention* ago,
    oldest first; return how many went. Rows that old can never be looked up again (see the
    rule above), so deleting them races with no consumer."""
    status: str = await conn.execute(
        f"""DELETE FROM {schema}.inbox WHERE event_id IN (
                SELECT event_id FROM {schema}.inbox
                WHERE processed_at < now() - $1::interval
                ORDER BY processed_at LIMIT $2)""",
        retention,
        limit,
    )
    return int(status.split()[-1])


def pruner(
    pool: asyncpg.Pool,
    schema: str,
    retention: timedelta,
    *,
    batch_size: int = 10_000,
    interval_s: float = 3600.0,
) -> Pruner:
    """The leased job pruning *schema*'s inbox (one replica at a time, in batches)."""

    async def delete_batch(conn: asyncpg.Connection, limit: int) -> int:
        return await delete_older(conn, schema, retention, limit)

    return Pruner(pool, f"inbox-prune:{schema}", delete_batch, batch_size, interval_s)
