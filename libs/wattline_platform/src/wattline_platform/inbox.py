"""The inbox: deduplicate consumed events by id, in the same transaction as their effect."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg


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
