"""Asking DataHub for what is missing: the request is recorded and its event written in one
transaction; the datahub service sends it. What became of it (sent, failed, rejected by
DataHub) comes back as the datahub service's events and is kept with the request."""

from __future__ import annotations

import uuid
from datetime import datetime, time

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.datahub import DataRequestRejectedV1, RequestFailedV1, RequestSentV1
from wattline_contracts.portfolio import transaction_id_for
from wattline_contracts.reconciliation import DataRequestRaisedV1
from wattline_platform.logging import get_logger

from wattline_reconciliation.adapters import requests as request_store
from wattline_reconciliation.adapters import store
from wattline_reconciliation.domain.energy import COPENHAGEN
from wattline_reconciliation.domain.requests import DataRequest, Outcome, status_after
from wattline_reconciliation.handlers import Reconciliation
from wattline_reconciliation.models import DataRequestStatusOut


async def raise_request(rec: Reconciliation, request: DataRequest) -> DataRequestRaisedV1:
    async with rec.service.database.transaction() as tx:
        event = await raise_in(tx, rec, request)
    assert event is not None  # only automatic requests are ever skipped
    return event


async def raise_in(
    tx: asyncpg.Connection, rec: Reconciliation, request: DataRequest, *, automatic: bool = False
) -> DataRequestRaisedV1 | None:
    """Record *request* and write its event in transaction *tx*; None for an automatic request
    of a gap that was asked about already."""
    request_id = uuid.uuid4()
    event = DataRequestRaisedV1(
        request_id=str(request_id),
        kind=request.kind,
        grid_area=request.grid_area,
        gsrn=request.gsrn,
        metering_point_type=request.metering_point_type,
        period_start=datetime.combine(request.start, time(0), tzinfo=COPENHAGEN),
        period_end=datetime.combine(request.end, time(0), tzinfo=COPENHAGEN),
    )
    added = await store.add_request(
        tx, request_id, request.kind, request.grid_area, request.gsrn,
        request.metering_point_type, request.start, request.end, automatic,
    )  # fmt: skip
    if not added:
        return None
    # The id DataHub's rejection will name (the datahub service derives it the same way).
    await request_store.set_transaction_id(tx, request_id, transaction_id_for(str(request_id)))
    await rec.service.emit(tx, event, key=str(request_id))
    return event


log = get_logger(__name__)


async def on_request_sent(tx: asyncpg.Connection, event: RequestSentV1, _: Envelope) -> None:
    await _heard(tx, "sent", None, request_id=event.request_id)


async def on_request_failed(tx: asyncpg.Connection, event: RequestFailedV1, _: Envelope) -> None:
    await _heard(tx, "failed", event.reason[:500], request_id=event.request_id)


async def on_data_request_rejected(
    tx: asyncpg.Connection, event: DataRequestRejectedV1, _: Envelope
) -> None:
    if event.original_transaction_id is None:
        return  # DataHub named no request of ours
    reason = "; ".join(f"{r.code}: {r.text}" if r.text else r.code for r in event.reasons)
    await _heard(tx, "rejected", reason[:500], transaction_id=event.original_transaction_id)


async def _heard(
    tx: asyncpg.Connection,
    outcome: Outcome,
    reason: str | None,
    *,
    request_id: str | None = None,
    transaction_id: str | None = None,
) -> None:
    """Keep *outcome* with the request it is about; the portfolio's requests share the topics
    (their ids are not ours, or not even UUIDs), so an unknown request is skipped."""
    try:
        rid = uuid.UUID(request_id) if request_id is not None else None
    except ValueError:
        return
    row = await request_store.lock_status(tx, request_id=rid, transaction_id=transaction_id)
    if row is None:
        return
    status = status_after(row["status"], outcome)
    if status is None:
        return
    await request_store.set_status(tx, row["request_id"], status, reason)
    log.info("data_request_" + status, request_id=str(row["request_id"]), reason=reason)


class UnknownRequest(LookupError):
    """No request of reconciliation's has this id."""


async def get_request(rec: Reconciliation, request_id: str) -> DataRequestStatusOut:
    try:
        rid = uuid.UUID(request_id)
    except ValueError:
        raise UnknownRequest(request_id[:40]) from None
    async with rec.service.database.connection() as conn:
        row = await request_store.get(conn, rid)
    if row is None:
        raise UnknownRequest(request_id)
    return DataRequestStatusOut(**{**dict(row), "request_id": str(row["request_id"])})
