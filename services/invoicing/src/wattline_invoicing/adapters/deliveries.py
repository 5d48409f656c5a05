"""SQL for deliveries: one row per document and channel (``migrations/0004_bills.sql``,
``0006_delivery.sql``), claimed for a while by the replica that sends it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from wattline_invoicing.domain.delivery import Channel, Status


@dataclass(frozen=True)
class Delivery:
    invoice_id: uuid.UUID
    channel: Channel
    status: Status
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    message_id: str | None


@dataclass(frozen=True)
class Claimed:
    invoice_id: uuid.UUID
    channel: Channel
    attempts: int  # failed attempts so far
    claim: uuid.UUID


_COLUMNS = """invoice_id, channel, status, attempts, next_attempt_at, last_error, sent_at,
              message_id"""


async def create(
    tx: asyncpg.Connection, invoice_ids: Sequence[uuid.UUID], channels: Sequence[str]
) -> None:
    """Inside the transaction issuing *invoice_ids*: a pending delivery of each on each of
    *channels*, due at once."""
    await tx.execute(
        """INSERT INTO delivery (invoice_id, channel)
           SELECT invoice_id, channel
           FROM unnest($1::uuid[]) AS invoice_id CROSS JOIN unnest($2::text[]) AS channel
           ON CONFLICT DO NOTHING""",
        list(invoice_ids),
        list(channels),
    )


async def claim_due(
    tx: asyncpg.Connection,
    channel: str,
    now: datetime,
    limit: int,
    until: datetime,
) -> list[Claimed]:
    """Claim up to *limit* pending deliveries on *channel* due at *now*, oldest due first,
    until *until*: rows another claimer holds locked are skipped, and once this transaction
    commits the claimed ones are not due again before *until* (the lease)."""
    rows = await tx.fetch(
        """WITH due AS (
               SELECT invoice_id, channel FROM delivery
               WHERE status = 'pending' AND channel = $1 AND next_attempt_at <= $2
               ORDER BY next_attempt_at
               LIMIT $3
               FOR UPDATE SKIP LOCKED)
           UPDATE delivery d SET next_attempt_at = $4, claim = $5
           FROM due WHERE d.invoice_id = due.invoice_id AND d.channel = due.channel
           RETURNING d.invoice_id, d.channel, d.attempts, d.claim""",
        channel,
        now,
        limit,
        until,
        uuid.uuid4(),
    )
    return [Claimed(**dict(r)) for r in rows]


async def record_sent(
    conn: asyncpg.Connection, claimed: Claimed, at: datetime, message_id: str
) -> bool:
    """Sent; False when the claim was taken from us meanwhile (a resend): nothing recorded."""
    result = await conn.execute(
        """UPDATE delivery SET status = 'sent', sent_at = $4, message_id = $5,
               last_error = NULL, claim = NULL
           WHERE invoice_id = $1 AND channel = $2 AND claim = $3""",
        claimed.invoice_id,
        claimed.channel,
        claimed.claim,
        at,
        message_id,
    )
    return bool(result == "UPDATE 1")


async def record_no_address(conn: asyncpg.Connection, claimed: Claimed) -> bool:
    """The payer has no address for the channel: recorded, not retried."""
    result = await conn.execute(
        """UPDATE delivery SET status = 'no_address', last_error = NULL, claim = NULL
           WHERE invoice_id = $1 AND channel = $2 AND claim = $3""",
        claimed.invoice_id,
        claimed.channel,
        claimed.claim,
    )
    return bool(result == "UPDATE 1")


async def record_failure(
    conn: asyncpg.Connection,
    claimed: Claimed,
    attempts: int,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """A failed attempt: pending again from *retry_at*, or ``failed`` when None."""
    result = await conn.execute(
        """UPDATE delivery SET attempts = $4, last_error = $5, claim = NULL,
               status = CASE WHEN $6::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
               next_attempt_at = coalesce($6::timestamptz, next_attempt_at)
           WHERE invoice_id = $1 AND channel = $2 AND claim = $3""",
        claimed.invoice_id,
        claimed.channel,
        claimed.claim,
        attempts,
        error,
        retry_at,
    )
    return bool(result == "UPDATE 1")


async def reopen(
    tx: asyncpg.Connection, invoice_id: uuid.UUID, channel: str, now: datetime
) -> Delivery | None:
    """Send again: pending from *now* with no attempts (created for a document without
    one); None while a send is on its way (its claim's lease not run out)."""
    row = await tx.fetchrow(
        f"""INSERT INTO delivery (invoice_id, channel, next_attempt_at) VALUES ($1, $2, $3)
            ON CONFLICT (invoice_id, channel) DO UPDATE SET status = 'pending', attempts = 0,
                next_attempt_at = EXCLUDED.next_attempt_at, last_error = NULL, claim = NULL
            WHERE delivery.claim IS NULL OR delivery.next_attempt_at <= EXCLUDED.next_attempt_at
            RETURNING {_COLUMNS}""",
        invoice_id,
        channel,
        now,
    )
    # None: a send is on its way under a live claim; sending again now would send it twice
    # at once (the caller says 409, try after it).
    return None if row is None else Delivery(**dict(row))


async def of_invoice(conn: asyncpg.Connection, invoice_id: uuid.UUID) -> list[Delivery]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM delivery WHERE invoice_id = $1 ORDER BY channel", invoice_id
    )
    return [Delivery(**dict(r)) for r in rows]
