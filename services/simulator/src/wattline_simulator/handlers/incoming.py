"""A document the supplier sends DataHub: recorded as received, and the requests DataHub
answers (RSM-001, RSM-002, RSM-015, RSM-016, RSM-017) answered in the same transaction."""

from __future__ import annotations

import json

from wattline_cim import (
    AggregationRequest,
    CancelRequest,
    ChangeOfSupplierRequest,
    CimDocument,
    CimError,
    MeasureDataRequest,
    WholesaleSettlementRequest,
    parse_document,
)
from wattline_platform.db import Database

from wattline_simulator.adapters import store
from wattline_simulator.handlers import processes, requests, wholesale
from wattline_simulator.settings import SimulatorSettings


def validate_incoming(body: bytes) -> str | None:
    """Why DataHub would refuse *body* outright (None: accepted for processing)."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        return f"invalid JSON: {exc}"
    if not isinstance(doc, dict) or len(doc) != 1:
        return "a CIM document has exactly one root element"
    return None


async def receive(
    db: Database, settings: SimulatorSettings, document_type: str, body: bytes
) -> str | None:
    """Record *body* and answer it if it is a request DataHub answers; why it was refused
    (None: accepted)."""
    reason = validate_incoming(body)
    doc: CimDocument | None = None
    if reason is None:
        try:
            doc = parse_document(body)
        except CimError as exc:
            reason = str(exc)
    async with db.transaction() as tx:
        await store.record_incoming(tx, document_type, body, reason is None, reason)
        if isinstance(doc, ChangeOfSupplierRequest):
            now = await store.now(tx) or settings.start
            answer = await processes.answer_request(tx, doc, settings, now)
            if answer is not None and answer.accepted:
                # A move-in may be effective today or earlier: complete it at once.
                await processes.complete_due(tx, now, settings)
        elif isinstance(doc, CancelRequest):
            await processes.answer_cancel(tx, doc, await store.now(tx) or settings.start)
        elif isinstance(doc, MeasureDataRequest):
            now = await store.now(tx) or settings.start
            await requests.answer_measure_data(tx, doc, settings, now)
        elif isinstance(doc, AggregationRequest):
            now = await store.now(tx) or settings.start
            await requests.answer_aggregation(tx, doc, settings, now)
        elif isinstance(doc, WholesaleSettlementRequest):
            now = await store.now(tx) or settings.start
            await wholesale.answer_request(tx, doc, settings, now)
    return reason
