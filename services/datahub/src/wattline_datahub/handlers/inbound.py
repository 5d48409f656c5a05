"""Messages DataHub sent: keep one as served, parse it into its events, retry a dead letter.

The poller keeps the raw body (:func:`receive`, one statement) before DataHub dequeues it; a
message id already stored (a duplicate delivery) is caught by the primary key and changes
nothing. Parse workers in every replica then take received messages (:func:`parse_next`):

- a worker claims the earliest received message no one holds (``FOR UPDATE SKIP LOCKED``:
  two workers never hold one message, and neither waits for the other to claim);
- it parses the body outside the database's work (:mod:`wattline_datahub.handlers.parsing`:
  a thread or a process; the claim's transaction holds only that row's lock meanwhile);
- it locks the earlier messages of the category still received, waiting for those other
  workers hold; what it then holds (their workers died: a dead session's locks go with it)
  it parses too, and commits them, then its own, in arrival order, with their events and
  statuses, in ONE transaction. So message n of a category is committed only after n-1:
  settlement numbers metering-data versions by arrival, partial days merge in order and a
  correction follows its original.

Nothing is lost: a message is dequeued only once it is kept, and a received message stays
received until the transaction that publishes its events marks it parsed; a worker killed
at any point rolls back, and the message is claimed again. Nothing is applied twice: the
status changes from received in the same transaction as the events, under the row's lock.
No two waits close a circle (:func:`~wattline_datahub.adapters.inbound_messages.lock_earlier`),
and a waiting worker never stops another from taking an earlier message: it takes it itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import asyncpg
from wattline_contracts.datahub import MissingDataRemindedV1
from wattline_platform.logging import correlation_id_var, get_logger, new_correlation_id

from wattline_datahub import metrics
from wattline_datahub.adapters import inbound_messages, outbound_requests, partial_days, reminders
from wattline_datahub.domain.inbound import Keyed, Understood, measure_day_event, merge
from wattline_datahub.domain.retention import body
from wattline_datahub.handlers.parsing import Parse, Understanding, in_thread
from wattline_datahub.settings import DatahubService

Outcome = Literal["received", "stored", "dead_lettered", "duplicate"]
log = get_logger(__name__)


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    events: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class Parsed:
    """A received message parsed and committed: what it became, under which correlation id
    its events went out."""

    message_id: str
    category: str
    stored: Stored
    correlation_id: str


def _refusals(understood: Understood) -> str | None:
    """The reason kept with a message some of whose series were refused (the rest taken)."""
    return "; ".join(understood.refused) if understood.refused else None


async def _events(tx: asyncpg.Connection, understood: Understood, message_id: str) -> list[Keyed]:
    """The message's events, its partial days merged with what earlier messages brought."""
    kept = await partial_days.kept(tx, understood.whole_days)
    for day in understood.whole_days:
        if (day.gsrn, day.local_date) in kept:
            await partial_days.save(tx, day)
    events = list(understood.events)
    for part in understood.partial_days:
        merged = merge(await partial_days.get(tx, part.day.gsrn, part.day.local_date), part.day)
        await partial_days.save(tx, merged)
        events.append(measure_day_event(message_id, part.series, merged))
    await reminders.add(
        tx,
        [
            (message_id, e.transaction_id, e.gsrn, e.missing_since)
            for e, _ in events
            if isinstance(e, MissingDataRemindedV1)
        ],
    )
    for transaction_id, reason in understood.rejected_requests:
        request_id = await outbound_requests.reject(tx, transaction_id, reason)
        log.warning(
            "datahub_request_rejected",
            datahub_message_id=message_id,
            transaction_id=transaction_id,
            request_id=request_id,  # None: not a request of ours that was still open
            reason=reason,
        )
    return events


def _tell_operators(category: str, message_id: str, events: list[Keyed]) -> None:
    """Reminders of missing data go to the operators: a counter and a log line each."""
    for event, _ in events:
        if isinstance(event, MissingDataRemindedV1):
            metrics.MISSING_DATA_REMINDERS.inc()
            log.warning(
                "datahub_missing_data_reminded",
                category=category,
                datahub_message_id=message_id,
                gsrn=event.gsrn,
                missing_since=event.missing_since.isoformat() if event.missing_since else None,
            )


def _log_refusals(category: str, message_id: str, understood: Understood) -> None:
    if understood.refused:
        metrics.SERIES_REFUSED.labels(category).inc(len(understood.refused))
        log.warning(
            "datahub_series_refused",
            category=category,
            datahub_message_id=message_id,
            refused=len(understood.refused),
            taken=understood.count,
            reason=_refusals(understood),
        )


async def receive(service: DatahubService, category: str, message_id: str, raw: bytes) -> Stored:
    """Keep a message as DataHub served it, to be parsed (``received``); ``duplicate`` when its
    id is already stored (a redelivery: nothing changes)."""
    async with service.database.connection() as conn:
        if await inbound_messages.receive(conn, message_id, category, raw):
            return Stored("received")
    metrics.MESSAGES.labels(category, "duplicate").inc()
    return Stored("duplicate")


async def parse_next(service: DatahubService, parse: Parse = in_thread) -> list[Parsed] | None:
    """Claim the earliest received message, parse it and commit it (after the earlier ones of
    its category, see the module's docstring); the messages committed, in order (more than
    one when this worker took over a dead worker's), or None when none is waiting."""
    async with service.database.transaction() as tx:
        row = await inbound_messages.claim_next(tx)
        if row is None:
            return None
        mine = await _parse(parse, row)
        rows = await inbound_messages.lock_earlier(tx, row["category"], row["arrival"])
        done = [
            await _settle(service, tx, earlier, await _parse(parse, earlier)) for earlier in rows
        ]
        done.append(await _settle(service, tx, row, mine))
    for parsed, understanding in done:
        _after_commit(parsed, understanding.understood)
    return [parsed for parsed, _ in done]


async def _parse(parse: Parse, row: asyncpg.Record) -> Understanding:
    started = time.perf_counter()
    understanding = await parse(body(row["raw"], row["raw_lzma"]), row["message_id"])
    metrics.PARSE_SECONDS.labels(row["category"]).observe(time.perf_counter() - started)
    return understanding


async def _settle(
    service: DatahubService, tx: asyncpg.Connection, row: asyncpg.Record, u: Understanding
) -> tuple[Parsed, Understanding]:
    """Mark *row* stored (its events to the outbox) or dead-lettered, in the transaction *tx*."""
    message_id, understood = row["message_id"], u.understood
    outcome: Outcome = "stored" if u.reason is None else "dead_lettered"
    reason = u.reason or _refusals(understood)
    await inbound_messages.settle(
        tx, message_id, outcome, u.document_type, reason, understood.count
    )
    # One correlation id per DataHub message: every event it brings and every log line about
    # it carry the same one (the consumers set it again from the event's envelope), so the
    # message can be followed into the services that use it.
    correlation_id = new_correlation_id()
    token = correlation_id_var.set(correlation_id)
    try:
        if outcome == "stored":
            await service.emit_many(tx, await _events(tx, understood, message_id))
    finally:
        correlation_id_var.reset(token)
    stored = Stored(outcome, understood.count, reason)
    return Parsed(message_id, row["category"], stored, correlation_id), u


def _after_commit(parsed: Parsed, understood: Understood) -> None:
    """The metrics and log lines of a message whose outcome is committed."""
    category, message_id, stored = parsed.category, parsed.message_id, parsed.stored
    token = correlation_id_var.set(parsed.correlation_id)
    try:
        metrics.MESSAGES.labels(category, stored.outcome).inc()
        log.info(
            "datahub_message_parsed",
            category=category,
            datahub_message_id=message_id,
            outcome=stored.outcome,
            events=stored.events,
        )
        if stored.outcome == "dead_lettered":
            log.error(
                "datahub_message_dead_lettered",
                category=category,
                message_id=message_id,
                reason=stored.reason,
            )
        else:
            _log_refusals(category, message_id, understood)
            _tell_operators(category, message_id, understood.events)
    finally:
        correlation_id_var.reset(token)


async def store_inbound(
    service: DatahubService,
    category: str,
    message_id: str,
    raw: bytes,
    parse: Parse = in_thread,
) -> Stored:
    """Keep a message and parse it now: what it became (``duplicate`` for an id already kept).

    What a poller and the parse workers do one after the other (the messages received before
    it are parsed first, in order); for tools and tests that hold one message.
    """
    received = await receive(service, category, message_id, raw)
    if received.outcome == "duplicate":
        return received
    while (done := await parse_next(service, parse)) is not None:
        for parsed in done:
            if parsed.message_id == message_id:
                return parsed.stored
    async with service.database.connection() as conn:  # another worker parsed it meanwhile
        row = await inbound_messages.get_outcome(conn, message_id)
    return Stored(row["status"], row["events"], row["reason"])


@dataclass(frozen=True)
class DeadLetters:
    """One page of dead letters, newest first, and how many there are in all."""

    rows: list[asyncpg.Record]
    total: int


async def dead_letters(service: DatahubService, limit: int, offset: int) -> DeadLetters:
    """The dead-lettered messages of the page (*limit*, *offset*) and their total."""
    async with service.database.connection() as conn:
        rows = await inbound_messages.dead_letters(conn, limit, offset)
        counts = await inbound_messages.counts(conn)
    return DeadLetters(rows, counts.get("dead_lettered", 0))


async def missing_data_reminders(
    service: DatahubService, after: int | None, limit: int, gsrn: str | None
) -> list[asyncpg.Record]:
    """The reminders of missing data kept, newest first (keyset on their id)."""
    async with service.database.connection() as conn:
        return await reminders.page(conn, after, limit, gsrn)


async def retry_dead_letter(service: DatahubService, message_id: str) -> Stored | None:
    """Parse a dead-lettered message again (after a fix); publish its events if it now works."""
    async with service.database.transaction() as tx:
        row = await inbound_messages.get_dead_letter(tx, message_id, for_update=True)
        if row is None:
            return None
        understanding = await in_thread(body(row["raw"], row["raw_lzma"]), message_id)
        understood, document_type, reason = (
            understanding.understood,
            understanding.document_type,
            understanding.reason,
        )
        if reason is not None:
            await inbound_messages.set_reason(tx, message_id, reason)
            return Stored("dead_lettered", 0, reason)
        await inbound_messages.mark_retried(tx, message_id, document_type, understood.count)
        await service.emit_many(tx, await _events(tx, understood, message_id))
    metrics.MESSAGES.labels(row["category"], "retried").inc()
    _log_refusals(row["category"], message_id, understood)
    _tell_operators(row["category"], message_id, understood.events)
    return Stored("stored", understood.count, _refusals(understood))
