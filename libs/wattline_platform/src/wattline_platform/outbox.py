"""The transactional outbox: append in the caller's transaction; a relay publishes.

Ordering: ``append`` takes a *shared* transaction-scoped advisory lock before it draws an id,
and the relay takes the same lock *exclusively* while it reads a batch. Every row the relay
sees therefore belongs to a committed transaction, and no transaction still in flight can
later commit a row with a smaller id. Publishing in id order is publishing in commit order,
and for one aggregate (whose writers serialise on its row) in the order its events happened.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg
from wattline_contracts import Envelope, Event

from wattline_platform import leases, metrics
from wattline_platform.asyncutil import sleep_unless
from wattline_platform.leases import lock_key
from wattline_platform.logging import (
    causation_id_var,
    correlation_id_var,
    get_logger,
    new_correlation_id,
)

log = get_logger(__name__)

# Kafka's default message limit is 1 MiB; leave room for headers and batching overhead.
MAX_ENVELOPE_BYTES = 900_000


def _append_lock(schema: str) -> int:
    return lock_key(f"outbox-append:{schema}")


@dataclass(frozen=True)
class Pending:
    """An event ready to append: the envelope and its topic."""

    envelope: Envelope
    topic: str


def envelope_for(event: Event, key: str, producer: str) -> Envelope:
    """Wrap *event*, carrying the current correlation and causation ids."""
    return Envelope.wrap(
        event,
        key=key,
        producer=producer,
        correlation_id=correlation_id_var.get() or new_correlation_id(),
        causation_id=causation_id_var.get(),
    )


async def append(
    tx: asyncpg.Connection, event: Event, *, key: str, producer: str, schema: str
) -> Envelope:
    """Write *event* to the outbox of *schema* inside the caller's transaction *tx*."""
    env = envelope_for(event, key, producer)
    await append_envelopes(tx, [env], schema=schema)
    return env


async def append_envelopes(
    tx: asyncpg.Connection, envelopes: Sequence[Envelope], *, schema: str
) -> None:
    """Write already wrapped events (one statement for the whole batch).

    An event too large for the broker is refused here, in the caller's transaction, rather
    than blocking the relay later.
    """
    await _insert(
        tx,
        schema,
        [(e.event_id, e.type, e.key, e.model_dump_json(), e.occurred_at) for e in envelopes],
    )


# Stands for the event id and the key while one envelope is dumped as the batch's template.
_PROBE_ID = uuid.UUID(int=0)
_PROBE_KEY = "\x00key\x00"


async def append_payloads(
    tx: asyncpg.Connection,
    event_type: type[Event],
    payloads: Sequence[tuple[str, str]],
    *,
    producer: str,
    schema: str,
) -> None:
    """Write many events of *event_type* given as ``(key, payload JSON)`` pairs, each in an
    envelope as :func:`envelope_for` makes it (a new event id, the current correlation and
    causation ids; one ``occurred_at`` for the batch: its events happen in one transaction).

    For tens of thousands of events of one shape (a settlement run): no model is built or
    validated per event. The caller vouches that every payload is the JSON of a valid
    *event_type* (it renders them by construction and checks a sample against the model);
    the relay and the consumers read them like any other event. The envelope is pydantic's
    own JSON, dumped once with stand-ins for the id and the key."""
    if not payloads:
        return
    occurred_at = datetime.now(UTC)
    probe = Envelope(
        event_id=_PROBE_ID,
        type=event_type.TYPE,
        version=event_type.VERSION,
        occurred_at=occurred_at,
        correlation_id=correlation_id_var.get() or new_correlation_id(),
        causation_id=causation_id_var.get(),
        producer=producer,
        key=_PROBE_KEY,
        payload={},
    ).model_dump_json()
    tail = f'{json.dumps(_PROBE_KEY)},"payload":{{}}}}'
    assert probe.endswith(tail) and probe.count(str(_PROBE_ID)) == 1, probe
    template = (
        probe[: -len(tail)].replace("%", "%%").replace(str(_PROBE_ID), "%s") + '%s,"payload":%s}'
    )
    ids = [uuid.uuid4() for _ in payloads]
    await _insert(
        tx,
        schema,
        [
            (
                event_id,
                event_type.TYPE,
                key,
                template % (event_id, json.dumps(key), payload),
                occurred_at,
            )
            for event_id, (key, payload) in zip(ids, payloads, strict=True)
        ],
    )


async def _insert(
    tx: asyncpg.Connection,
    schema: str,
    rows: Sequence[tuple[uuid.UUID, str, str, str, datetime]],
) -> None:
    """Insert ``(event_id, type, key, envelope JSON, occurred_at)`` rows in one statement,
    after the shared append lock (see the module doc); an envelope too large for the broker
    is refused."""
    if not rows:
        return
    for event_id, event_type, _, body, _ in rows:
        # A str's UTF-8 form is at most 4 bytes a character: encode only when it could matter.
        if len(body) * 4 > MAX_ENVELOPE_BYTES and len(body.encode()) > MAX_ENVELOPE_BYTES:
            raise ValueError(
                f"{event_type} {event_id} is {len(body.encode())} bytes; "
                f"events must stay under {MAX_ENVELOPE_BYTES} (split it)"
            )
    ids, types, keys, bodies, occurred = zip(*rows, strict=True)
    await tx.execute(
        """
        WITH lock AS (SELECT pg_advisory_xact_lock_shared($1))
        INSERT INTO outbox (event_id, topic, key, event_type, envelope, occurred_at)
        SELECT e.event_id, e.topic, e.key, e.event_type, e.envelope::json, e.occurred_at
        FROM lock, unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                          $7::timestamptz[])
             AS e(event_id, topic, key, event_type, envelope, occurred_at)
        """,
        _append_lock(schema),
        list(ids),
        list(types),
        list(keys),
        list(types),
        list(bodies),
        list(occurred),
    )


@dataclass
class Row:
    """An outbox row as the relay publishes it."""

    id: int
    topic: str
    key: str
    envelope: str
    headers: dict[str, str]


class PublishError(Exception):
    """Publishing a batch failed after its first ``acknowledged`` rows reached the broker."""

    def __init__(self, acknowledged: int, cause: BaseException) -> None:
        super().__init__(f"publish failed after {acknowledged} rows: {cause!r}")
        self.acknowledged = acknowledged
        self.cause = cause


class Publisher(Protocol):
    """What the relay needs from a broker."""

    async def publish_batch(self, rows: Sequence[Row]) -> int:
        """Send *rows* in order; return how many were acknowledged or raise PublishError."""

    async def current_epoch(self) -> str | None:
        """The broker's epoch marker (None when it has none yet)."""


@dataclass
class OutboxRelay:
    """Publishes a schema's outbox in commit order; one leader per schema across replicas."""

    pool: asyncpg.Pool
    schema: str
    publisher: Publisher
    batch_size: int = 1000
    poll_interval_s: float = 0.05
    retention: timedelta = timedelta(days=30)
    append_lock_wait_ms: int = 50
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Run until ``stop``: wait for the leader lease, then publish batches."""
        while not self._stopping.is_set():
            try:
                async with leases.held(self.pool, f"outbox-relay:{self.schema}") as lease:
                    if lease is not None:
                        await self._lead(lease)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: back off, then retry
                log.warning("relay_error", schema=self.schema, error=repr(exc))
            if not self._stopping.is_set():
                # Another replica leads (or we just failed): wait without holding a connection.
                await self._sleep(1.0)

    def stop(self) -> None:
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self._stopping, seconds)

    async def _lead(self, lease: asyncpg.Connection) -> None:
        await self.sync_epoch()
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        next_lease_check = loop.time() + 5.0
        while not self._stopping.is_set():
            published = await self.publish_once()
            now = loop.time()
            if now >= next_lease_check:
                # The lease lives as long as its session: a dead one means another replica
                # may lead now, so stop publishing.
                await lease.fetchval("SELECT 1")
                next_lease_check = now + 5.0
            if now >= next_prune:
                await self.prune()
                next_prune = now + 3600
            if published == 0:
                await self._sleep(self.poll_interval_s)

    async def sync_epoch(self) -> bool:
        """Re-publish everything retained when the broker is not the one we last published to.

        Returns True when a replay was scheduled.
        """
        epoch = await self.publisher.current_epoch()
        if epoch is None:
            raise RuntimeError("broker has no epoch marker yet: topics not created")
        async with self.pool.acquire() as conn, conn.transaction():
            known = await conn.fetchval(
                f"SELECT broker_epoch FROM {self.schema}.relay_state FOR UPDATE"
            )
            if known == epoch:
                return False
            count = await conn.fetchval(
                f"""WITH r AS (UPDATE {self.schema}.outbox SET published_at = NULL
                               WHERE published_at IS NOT NULL RETURNING 1)
                    SELECT count(*) FROM r"""
            )
            await conn.execute(
                f"UPDATE {self.schema}.relay_state SET broker_epoch = $1, updated_at = now()",
                epoch,
            )
        if known is not None:
            log.warning("broker_epoch_changed", schema=self.schema, republish=count)
        return True

    async def fetch_batch(self) -> list[Row]:
        """Read the next unpublished rows, committed ones only, in commit order.

        Returns nothing when a writer is between its append and its commit for longer than
        ``append_lock_wait``: waiting longer would queue every new writer behind the relay.
        """
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                if not await conn.fetchval(
                    "SELECT pg_try_advisory_xact_lock($1)", _append_lock(self.schema)
                ):
                    await conn.execute(f"SET LOCAL lock_timeout = '{self.append_lock_wait_ms}ms'")
                    await conn.execute(
                        "SELECT pg_advisory_xact_lock($1)", _append_lock(self.schema)
                    )
                records = await self._read(conn)
        except asyncpg.LockNotAvailableError:
            return []
        return records

    async def _read(self, conn: asyncpg.Connection) -> list[Row]:
        records = await conn.fetch(
            f"""SELECT id, topic, key, envelope, event_id::text AS event_id, event_type,
                           envelope->>'version' AS version,
                           envelope->>'correlation_id' AS correlation_id
                    FROM {self.schema}.outbox
                    WHERE published_at IS NULL ORDER BY id LIMIT $1""",
            self.batch_size,
        )
        return [
            Row(
                r["id"],
                r["topic"],
                r["key"],
                r["envelope"],
                {
                    # Headers let consumers route, correlate and dead-letter without parsing.
                    "event_id": r["event_id"],
                    "event_type": r["event_type"],
                    "event_version": r["version"],
                    "correlation_id": r["correlation_id"],
                    "content-type": "application/json",
                },
            )
            for r in records
        ]

    async def mark_published(self, rows: Sequence[Row]) -> None:
        """Record that *rows* reached the broker."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"""UPDATE {self.schema}.outbox SET published_at = now()
                    WHERE id = ANY($1::bigint[])""",
                [r.id for r in rows],
            )

    async def publish_once(self) -> int:
        """Publish one batch; return how many rows were published."""
        rows = await self.fetch_batch()
        if not rows:
            metrics.OUTBOX_LAG.labels(self.schema).set(0)
            return 0
        try:
            await self.publisher.publish_batch(rows)
        except PublishError as exc:
            # Keep what the broker has; the rest is retried, in order, from the first failure.
            if exc.acknowledged:
                await self.mark_published(rows[: exc.acknowledged])
                metrics.EVENTS_PUBLISHED.labels(self.schema).inc(exc.acknowledged)
            raise
        # A crash here re-publishes the batch: consumers deduplicate by event id.
        await self.mark_published(rows)
        metrics.EVENTS_PUBLISHED.labels(self.schema).inc(len(rows))
        await self._update_lag()
        return len(rows)

    async def _update_lag(self) -> None:
        async with self.pool.acquire() as conn:
            oldest = await conn.fetchval(
                f"""SELECT extract(epoch FROM now() - min(occurred_at))
                    FROM {self.schema}.outbox WHERE published_at IS NULL"""
            )
        metrics.OUTBOX_LAG.labels(self.schema).set(float(oldest or 0))

    async def prune(self) -> int:
        """Delete published rows older than the retention period."""
        async with self.pool.acquire() as conn:
            status: str = await conn.execute(
                f"""DELETE FROM {self.schema}.outbox
                    WHERE published_at IS NOT NULL AND occurred_at < now() - $1::interval""",
                self.retention,
            )
        return int(status.split()[-1])


async def schedule_replay(
    conn: asyncpg.Connection,
    schema: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    from_event: uuid.UUID | None = None,
) -> int:
    """Mark a range of the outbox unpublished so the relay publishes it again.

    The range is chosen by time (``since``/``until`` on ``occurred_at``) or from an event id
    onwards (that event and every later row). Returns the number of rows scheduled.
    """
    conditions = ["published_at IS NOT NULL"]
    args: list[Any] = []
    if from_event is not None:
        args.append(from_event)
        conditions.append(f"id >= (SELECT id FROM {schema}.outbox WHERE event_id = ${len(args)})")
        if not await conn.fetchval(
            f"SELECT 1 FROM {schema}.outbox WHERE event_id = $1", from_event
        ):
            raise LookupError(f"event {from_event} is not in {schema}.outbox")
    if since is not None:
        args.append(since)
        conditions.append(f"occurred_at >= ${len(args)}")
    if until is not None:
        args.append(until)
        conditions.append(f"occurred_at < ${len(args)}")
    count: int = await conn.fetchval(
        f"""WITH r AS (UPDATE {schema}.outbox SET published_at = NULL
                       WHERE {" AND ".join(conditions)} RETURNING 1)
            SELECT count(*) FROM r""",
        *args,
    )
    return count
