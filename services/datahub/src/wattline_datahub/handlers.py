"""Datahub commands: store a peeked message with its events in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wattline_cim import CimError, parse_document
from wattline_platform.service import Service

from wattline_datahub import metrics
from wattline_datahub.adapters import inbound_messages
from wattline_datahub.domain.inbound import Keyed, interpret

Outcome = Literal["stored", "dead_lettered", "duplicate"]


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    events: int = 0
    reason: str | None = None


def _understand(raw: bytes, message_id: str) -> tuple[list[Keyed], str | None, str | None]:
    """Events, document type and (for a message we cannot take) the reason."""
    try:
        doc = parse_document(raw)
        return interpret(doc, message_id), type(doc).__name__, None
    except CimError as exc:
        return [], None, str(exc)


async def store_inbound(service: Service, category: str, message_id: str, raw: bytes) -> Stored:
    """Keep the raw message, and its events or its dead-letter reason, atomically.

    A message id already stored is a duplicate delivery: nothing changes.
    """
    events, document_type, reason = _understand(raw, message_id)
    async with service.database.transaction() as tx:
        status: Outcome = "stored" if reason is None else "dead_lettered"
        if not await inbound_messages.insert(
            tx, message_id, category, document_type, raw, status, reason, len(events)
        ):
            result = Stored("duplicate")
        else:
            await service.emit_many(tx, events)
            result = Stored(status, len(events), reason)
    metrics.MESSAGES.labels(category, result.outcome).inc()
    return result


async def retry_dead_letter(service: Service, message_id: str) -> Stored | None:
    """Parse a dead-lettered message again (after a fix); publish its events if it now works."""
    async with service.database.transaction() as tx:
        row = await inbound_messages.get_dead_letter(tx, message_id, for_update=True)
        if row is None:
            return None
        events, document_type, reason = _understand(bytes(row["raw"]), message_id)
        if reason is not None:
            await inbound_messages.set_reason(tx, message_id, reason)
            return Stored("dead_lettered", 0, reason)
        await inbound_messages.mark_retried(tx, message_id, document_type, len(events))
        await service.emit_many(tx, events)
    metrics.MESSAGES.labels(row["category"], "retried").inc()
    return Stored("stored", len(events))
