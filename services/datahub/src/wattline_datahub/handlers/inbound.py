"""Messages DataHub sent: keep one with its events in one transaction, retry a dead letter.

Parse outside the transaction (pure, :mod:`wattline_datahub.domain.inbound`), then one
transaction for the raw message, its events and what it closes; a message id already stored
(a duplicate delivery) is caught by the primary key and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg
from wattline_cim import CimError, parse_documents
from wattline_contracts.datahub import MissingDataRemindedV1
from wattline_platform.logging import get_logger

from wattline_datahub import metrics
from wattline_datahub.adapters import inbound_messages, outbound_requests, partial_days, reminders
from wattline_datahub.domain.inbound import Keyed, Understood, interpret, measure_day_event, merge
from wattline_datahub.domain.retention import body
from wattline_datahub.settings import DatahubService

Outcome = Literal["stored", "dead_lettered", "duplicate"]
log = get_logger(__name__)


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    events: int = 0
    reason: str | None = None


def _understand(raw: bytes, message_id: str) -> tuple[Understood, str | None, str | None]:
    """What the message becomes, its document type and (for one we cannot take) the reason."""
    try:
        docs = parse_documents(raw)
        parts = [interpret(doc, message_id) for doc in docs]
        return Understood.joined(parts), type(docs[0]).__name__, None
    except CimError as exc:
        return Understood(), None, str(exc)


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


async def store_inbound(
    service: DatahubService, category: str, message_id: str, raw: bytes
) -> Stored:
    """Keep the raw message, and its events or its dead-letter reason, atomically.

    A message id already stored is a duplicate delivery: nothing changes. A message some of
    whose series were refused is stored with their reasons, its other series published.
    """
    understood, document_type, reason = _understand(raw, message_id)
    async with service.database.transaction() as tx:
        status: Outcome = "stored" if reason is None else "dead_lettered"
        if not await inbound_messages.insert(
            tx,
            message_id,
            category,
            document_type,
            raw,
            status,
            reason or _refusals(understood),
            understood.count,
        ):
            result = Stored("duplicate")
        else:
            await service.emit_many(tx, await _events(tx, understood, message_id))
            result = Stored(status, understood.count, reason or _refusals(understood))
    metrics.MESSAGES.labels(category, result.outcome).inc()
    if result.outcome == "stored":
        _log_refusals(category, message_id, understood)
        _tell_operators(category, message_id, understood.events)
    return result


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
        understood, document_type, reason = _understand(
            body(row["raw"], row["raw_lzma"]), message_id
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
