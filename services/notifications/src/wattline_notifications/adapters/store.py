"""All SQL of the notifications schema: contacts, preferences, deliveries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from wattline_notifications.domain.messages import Channel, Kind, Preference


async def upsert_contact(tx: asyncpg.Connection, party_id: str, sealed: str) -> None:
    """The newest sealed details of *party_id* (the portfolio sends the party whole)."""
    await tx.execute(
        """INSERT INTO contact (party_id, sealed) VALUES ($1, $2)
           ON CONFLICT (party_id) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()""",
        party_id,
        sealed,
    )


async def contact(conn: asyncpg.Connection, party_id: str) -> str | None:
    sealed: str | None = await conn.fetchval(
        "SELECT sealed FROM contact WHERE party_id = $1", party_id
    )
    return sealed


async def preferences(conn: asyncpg.Connection, party_id: str) -> dict[Kind, Preference]:
    rows = await conn.fetch(
        "SELECT kind, channel FROM contact_preference WHERE party_id = $1", party_id
    )
    return {r["kind"]: r["channel"] for r in rows}


async def set_preferences(
    tx: asyncpg.Connection, party_id: str, chosen: Mapping[Kind, Preference]
) -> None:
    await tx.executemany(
        """INSERT INTO contact_preference (party_id, kind, channel) VALUES ($1, $2, $3)
           ON CONFLICT (party_id, kind) DO UPDATE SET channel = EXCLUDED.channel,
               updated_at = now()""",
        [(party_id, kind, channel) for kind, channel in chosen.items()],
    )


async def add_delivery(
    tx: asyncpg.Connection,
    *,
    event_id: uuid.UUID,
    party_id: str,
    kind: Kind,
    channel: Channel,
    facts: Mapping[str, str],
) -> None:
    """A delivery to make; one per event and channel (a second is ignored)."""
    await tx.execute(
        """INSERT INTO delivery (delivery_id, event_id, party_id, kind, channel, facts)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (event_id, channel) DO NOTHING""",
        uuid.uuid4(),
        event_id,
        party_id,
        kind,
        channel,
        json.dumps(dict(facts), sort_keys=True),
    )


async def claim_due(
    tx: asyncpg.Connection, now: datetime, channels: Sequence[Channel]
) -> asyncpg.Record | None:
    """The next due pending delivery through one of *channels*, locked for this transaction
    (another replica skips it; a crashed one's lock ends with its connection). NO KEY: the
    SMS log's row referencing it is inserted from another connection while it is held."""
    row: asyncpg.Record | None = await tx.fetchrow(
        """SELECT delivery_id, party_id, kind, channel, facts, attempts FROM delivery
           WHERE status = 'pending' AND next_attempt_at <= $1 AND channel = ANY($2::text[])
           ORDER BY next_attempt_at, delivery_id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED""",
        now,
        list(channels),
    )
    return row


async def finish(
    tx: asyncpg.Connection,
    delivery_id: uuid.UUID,
    *,
    status: str,
    attempts: int,
    error: str | None = None,
    provider_id: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    """Record an attempt: sent, failed, skipped, or pending again from *next_attempt_at*."""
    await tx.execute(
        """UPDATE delivery SET status = $2, attempts = $3, last_error = $4,
               provider_id = coalesce($5, provider_id),
               next_attempt_at = coalesce($6, next_attempt_at),
               sent_at = CASE WHEN $2 = 'sent' THEN now() END
           WHERE delivery_id = $1""",
        delivery_id,
        status,
        attempts,
        error,
        provider_id,
        next_attempt_at,
    )


async def deliveries(
    conn: asyncpg.Connection,
    party_id: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """*party_id*'s deliveries, oldest first, keyset-paged on (created_at, delivery_id)."""
    rows = await conn.fetch(
        """SELECT d.delivery_id, d.event_id, d.party_id, d.kind, d.channel, d.status,
                  d.attempts, d.last_error, d.provider_id, d.next_attempt_at, d.created_at,
                  d.sent_at, s.body AS sms_body
           FROM delivery d LEFT JOIN sms_message s USING (delivery_id)
           WHERE d.party_id = $1
             AND ($2::timestamptz IS NULL OR (d.created_at, d.delivery_id) > ($2, $3::uuid))
           ORDER BY d.created_at, d.delivery_id LIMIT $4""",
        party_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [dict(r) for r in rows]
