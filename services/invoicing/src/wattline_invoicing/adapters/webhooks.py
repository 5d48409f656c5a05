"""Webhooks' SQL (subscriptions, the fan-out's watermark, deliveries and their claims), the
keeper of the signing secrets, and the HTTP sender that signs and POSTs one delivery."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urlsplit

import asyncpg
import httpx
from standardwebhooks import Webhook
from wattline_platform.leases import lock_key
from wattline_platform.pii import PiiCipher, PiiError

Status = Literal["active", "disabled"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


# -- secrets ---------------------------------------------------------------------------------


class SecretUnavailable(Exception):
    """A signing secret that cannot be opened here (sealed, and this process has no key)."""


class SecretBox:
    """Seals signing secrets for the table and opens them to sign.

    With the service's PII cipher the stored form is ``fernet:<token>``: a database dump
    alone does not let anyone forge our webhooks. Without one (a deployment with no
    ``PII_KEY``) it is ``plain:<secret>``, readable by whoever reads the table. The prefix
    says which, so a key added later opens old plain secrets and seals new ones.
    """

    def __init__(self, cipher: PiiCipher | None) -> None:
        self._cipher = cipher

    def seal(self, secret: str) -> str:
        if self._cipher is None:
            return "plain:" + secret
        return "fernet:" + self._cipher.seal(secret)

    def open(self, stored: str) -> str:
        scheme, _, value = stored.partition(":")
        if scheme == "plain":
            return value
        if scheme == "fernet" and self._cipher is not None:
            try:
                return self._cipher.open(value)
            except PiiError as exc:
                raise SecretUnavailable("the signing secret does not open with this key") from exc
        raise SecretUnavailable("the signing secret is sealed and this process has no PII key")


# -- subscriptions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    subscription_id: uuid.UUID
    url: str
    event_types: tuple[str, ...]
    description: str | None
    status: Status
    start_after: int
    created_at: datetime
    disabled_at: datetime | None


_SUBSCRIPTION = """subscription_id, url, event_types, description, status, start_after,
    created_at, disabled_at"""


def _subscription(row: asyncpg.Record) -> Subscription:
    return Subscription(**{**dict(row), "event_types": tuple(row["event_types"])})


async def add_subscription(
    tx: asyncpg.Connection,
    subscription_id: uuid.UUID,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    secret_sealed: str,
) -> Subscription:
    """Store a subscription that starts after the outbox's current end (its largest id)."""
    row = await tx.fetchrow(
        f"""INSERT INTO webhook_subscription
                (subscription_id, url, event_types, description, secret_sealed, start_after)
            VALUES ($1, $2, $3, $4, $5, (SELECT coalesce(max(id), 0) FROM outbox))
            RETURNING {_SUBSCRIPTION}""",
        subscription_id,
        url,
        list(event_types),
        description,
        secret_sealed,
    )
    assert row is not None
    return _subscription(row)


async def subscription(conn: asyncpg.Connection, subscription_id: uuid.UUID) -> Subscription | None:
    row = await conn.fetchrow(
        f"SELECT {_SUBSCRIPTION} FROM webhook_subscription WHERE subscription_id = $1",
        subscription_id,
    )
    return None if row is None else _subscription(row)


async def subscriptions_page(
    conn: asyncpg.Connection, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Subscription]:
    """Subscriptions, oldest first, after the keyset position *after*."""
    rows = await conn.fetch(
        f"""SELECT {_SUBSCRIPTION} FROM webhook_subscription
            WHERE $1::timestamptz IS NULL OR (created_at, subscription_id) > ($1, $2::uuid)
            ORDER BY created_at, subscription_id LIMIT $3""",
        None if after is None else after[0],
        None if after is None else after[1],
        limit,
    )
    return [_subscription(r) for r in rows]


async def disable(
    tx: asyncpg.Connection, subscription_id: uuid.UUID, at: datetime
) -> Subscription | None:
    """Disable a subscription (again: no change, its first disabling time stays)."""
    row = await tx.fetchrow(
        f"""UPDATE webhook_subscription
            SET status = 'disabled', disabled_at = coalesce(disabled_at, $2)
            WHERE subscription_id = $1
            RETURNING {_SUBSCRIPTION}""",
        subscription_id,
        at,
    )
    return None if row is None else _subscription(row)


@dataclass(frozen=True)
class Target:
    """What the fan-out needs of an active subscription."""

    subscription_id: uuid.UUID
    event_types: frozenset[str]
    start_after: int


async def active_targets(conn: asyncpg.Connection) -> list[Target]:
    rows = await conn.fetch(
        """SELECT subscription_id, event_types, start_after FROM webhook_subscription
           WHERE status = 'active' ORDER BY subscription_id"""
    )
    return [
        Target(r["subscription_id"], frozenset(r["event_types"]), r["start_after"]) for r in rows
    ]


# -- fan-out ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxEvent:
    """An outbox row; ``envelope`` only when someone wants its type (None otherwise)."""

    outbox_id: int
    event_id: uuid.UUID
    event_type: str
    envelope: dict[str, object] | None


async def fanout_mark(conn: asyncpg.Connection) -> int:
    """The outbox id up to which every event was fanned out."""
    value: int = await conn.fetchval("SELECT last_outbox_id FROM webhook_fanout")
    return value


async def committed_outbox_after(
    conn: asyncpg.Connection,
    schema: str,
    after: int,
    limit: int,
    wanted: Sequence[str],
    lock_wait_ms: int = 50,
) -> list[OutboxEvent] | None:
    """The next *limit* outbox rows after id *after*, in id order, all of them committed and
    with no smaller id left to commit; None when writers are in flight for longer than
    *lock_wait_ms* (try again later).

    Ids are drawn before commit, so id 11 can be visible while 10 is not yet: reading past
    10 then would skip it for good once the watermark moved. The outbox's writers hold its
    append lock shared from drawing the id to commit (``wattline_platform.outbox``); taking
    it exclusively here, as the relay does, waits until all of them are done. The lock's name
    is the platform's (``outbox-append:<schema>``); tests/test_webhooks.py holds a
    transaction open to prove this still matches.
    """
    key = lock_key(f"outbox-append:{schema}")
    try:
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key):
                await conn.execute(f"SET LOCAL lock_timeout = '{int(lock_wait_ms)}ms'")
                await conn.execute("SELECT pg_advisory_xact_lock($1)", key)
            rows = await conn.fetch(
                """SELECT id, event_id, event_type,
                          CASE WHEN event_type = ANY($3::text[]) THEN envelope END AS envelope
                   FROM outbox WHERE id > $1 ORDER BY id LIMIT $2""",
                after,
                limit,
                list(wanted),
            )
    except asyncpg.LockNotAvailableError:
        return None
    return [
        OutboxEvent(
            r["id"],
            r["event_id"],
            r["event_type"],
            None if r["envelope"] is None else json.loads(r["envelope"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class NewDelivery:
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    outbox_id: int
    event_type: str
    body: str


async def add_deliveries(
    tx: asyncpg.Connection, deliveries: Sequence[NewDelivery], due: datetime
) -> int:
    """Store *deliveries*, due at *due*; one already there (same subscription and event) is
    left as it is. Returns how many were new."""
    if not deliveries:
        return 0
    status: str = await tx.execute(
        """INSERT INTO webhook_delivery (delivery_id, subscription_id, event_id, outbox_id,
               event_type, body, next_attempt_at)
           SELECT gen_random_uuid(), d.subscription_id, d.event_id, d.outbox_id, d.event_type,
                  d.body, $6
           FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[])
                AS d(subscription_id, event_id, outbox_id, event_type, body)
           ON CONFLICT (subscription_id, event_id) DO NOTHING""",
        [d.subscription_id for d in deliveries],
        [d.event_id for d in deliveries],
        [d.outbox_id for d in deliveries],
        [d.event_type for d in deliveries],
        [d.body for d in deliveries],
        due,
    )
    return int(status.split()[-1])


async def move_fanout_mark(tx: asyncpg.Connection, to: int) -> None:
    await tx.execute(
        """UPDATE webhook_fanout
           SET last_outbox_id = greatest(last_outbox_id, $1), updated_at = now()""",
        to,
    )


# -- deliveries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A delivery claimed for one attempt (``attempts`` counts it already)."""

    delivery_id: uuid.UUID
    claim_id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    body: str
    attempts: int
    url: str
    secret_sealed: str


async def claim_due(
    tx: asyncpg.Connection, now: datetime, lease_until: datetime, limit: int
) -> list[Claim]:
    """Claim up to *limit* pending deliveries of active subscriptions due at *now*.

    ``FOR UPDATE SKIP LOCKED`` passes over rows another replica is claiming this instant,
    and a claim moves ``next_attempt_at`` to *lease_until*: once committed, no one else sees
    the delivery as due until the lease ends, which only matters when the claimer died.
    The attempt is counted here, before the send, so a delivery that crashes its sender
    still runs out of attempts.
    """
    rows = await tx.fetch(
        """WITH due AS (
               SELECT d.delivery_id FROM webhook_delivery d
               JOIN webhook_subscription s USING (subscription_id)
               WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND s.status = 'active'
               ORDER BY d.next_attempt_at, d.delivery_id
               LIMIT $3
               FOR UPDATE OF d SKIP LOCKED)
           UPDATE webhook_delivery d
           SET attempts = d.attempts + 1, next_attempt_at = $2, claim_id = $4
           FROM due, webhook_subscription s
           WHERE d.delivery_id = due.delivery_id AND s.subscription_id = d.subscription_id
           RETURNING d.delivery_id, d.claim_id, d.subscription_id, d.event_id, d.body,
                     d.attempts, s.url, s.secret_sealed""",
        now,
        lease_until,
        limit,
        uuid.uuid4(),
    )
    return [Claim(**dict(r)) for r in rows]


async def record_attempt(
    tx: asyncpg.Connection,
    claim: Claim,
    *,
    at: datetime,
    status: DeliveryStatus,
    next_attempt_at: datetime | None,
    http_status: int | None,
    error: str | None,
) -> bool:
    """Record how *claim*'s attempt went; False when the claim was lost meanwhile (its lease
    ran out and another replica took the delivery over, or it was re-sent): the newer
    claim's outcome is the one the log shows."""
    result: str = await tx.execute(
        """UPDATE webhook_delivery
           SET status = $3, next_attempt_at = $4, claim_id = NULL, last_attempt_at = $5,
               last_status = $6, last_error = $7
           WHERE delivery_id = $1 AND claim_id = $2""",
        claim.delivery_id,
        claim.claim_id,
        status,
        next_attempt_at,
        at,
        http_status,
        error,
    )
    return result == "UPDATE 1"


@dataclass(frozen=True)
class Delivery:
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    outbox_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    claimed: bool
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime


_DELIVERY = """delivery_id, subscription_id, event_id, outbox_id, event_type, status, attempts,
    next_attempt_at, claim_id IS NOT NULL AS claimed, last_attempt_at, last_status, last_error,
    created_at"""


async def delivery(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    lock: bool = False,
) -> Delivery | None:
    row = await conn.fetchrow(
        f"""SELECT {_DELIVERY} FROM webhook_delivery
            WHERE subscription_id = $1 AND delivery_id = $2
            {"FOR UPDATE" if lock else ""}""",
        subscription_id,
        delivery_id,
    )
    return None if row is None else Delivery(**dict(row))


async def deliveries_page(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    before_outbox_id: int | None,
    limit: int,
) -> list[Delivery]:
    """A subscription's deliveries, newest event first, older than *before_outbox_id*."""
    rows = await conn.fetch(
        f"""SELECT {_DELIVERY} FROM webhook_delivery
            WHERE subscription_id = $1
              AND ($2::text IS NULL OR status = $2)
              AND ($3::bigint IS NULL OR outbox_id < $3)
            ORDER BY outbox_id DESC LIMIT $4""",
        subscription_id,
        status,
        before_outbox_id,
        limit,
    )
    return [Delivery(**dict(r)) for r in rows]


async def due_now(tx: asyncpg.Connection, delivery_id: uuid.UUID, at: datetime) -> Delivery:
    """Make a delivery pending and due at *at* (a manual re-send); its attempts go on
    counting, so one that failed gets one more attempt."""
    row = await tx.fetchrow(
        f"""UPDATE webhook_delivery
            SET status = 'pending', next_attempt_at = $2, claim_id = NULL
            WHERE delivery_id = $1
            RETURNING {_DELIVERY}""",
        delivery_id,
        at,
    )
    assert row is not None
    return Delivery(**dict(row))


# -- the HTTP sender -------------------------------------------------------------------------

USER_AGENT = "Wattline-Webhooks/1"
TIMEOUT_S = 10.0  # a whole exchange; shorter than handlers.webhooks.LEASE
_ERROR_BODY_BYTES = 1024


@dataclass(frozen=True)
class Sent:
    """What the receiver answered: its status (None: no answer) and, unless 2xx, why."""

    status: int | None
    error: str | None


class HttpSender:
    """Signs and POSTs webhooks with one pooled httpx client (use as an async context).

    ``timeout_s`` bounds the whole exchange (connect, send, the answer), not each step,
    so a receiver that trickles its answer cannot hold a claim past its lease. Redirects are
    not followed: a signed body is for the URL the partner registered.
    """

    def __init__(
        self,
        *,
        timeout_s: float = TIMEOUT_S,
        client: httpx.AsyncClient | None = None,
        allow_private: bool = False,
    ):
        self.timeout_s = timeout_s
        self._client = client
        self._owned = client is None
        # Off outside tests: a webhook must never reach our own services or the cloud's
        # metadata address (the services behind the gateway trust their callers).
        self.allow_private = allow_private

    async def __aenter__(self) -> Self:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout_s,
                follow_redirects=False,
                headers={"user-agent": USER_AGENT},
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owned and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, url: str, *, msg_id: str, body: str, secret: str) -> Sent:
        """POST *body* to *url* signed with *secret*.

        The signature's timestamp is the wall clock at sending (not the business clock):
        receivers refuse timestamps more than five minutes from their own clock.
        """
        assert self._client is not None, "use HttpSender as an async context manager"
        if not self.allow_private and not await _public(url):
            return Sent(None, "refused: the host is not a public internet address")
        at = datetime.now(UTC).replace(microsecond=0)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body),
        }
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self._client.stream(
                    "POST", url, content=body.encode(), headers=headers
                ) as response:
                    if 200 <= response.status_code < 300:
                        return Sent(response.status_code, None)
                    # The status only: the body of a refusal is not ours to show (it could be
                    # an internal page reached by mistake).
                    return Sent(response.status_code, f"HTTP {response.status_code}")
        except TimeoutError:
            return Sent(None, f"no answer within {self.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return Sent(None, f"{type(exc).__name__}: {exc}")


async def _public(url: str) -> bool:
    """True when every address *url*'s host resolves to is a global (public) one."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        return True  # unresolvable: the send fails on its own, as a partner's outage
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_global for info in infos)
