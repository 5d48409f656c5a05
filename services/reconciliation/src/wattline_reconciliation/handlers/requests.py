"""Asking DataHub for what is missing: the request is recorded and its event written in one
transaction; the datahub service sends it."""

from __future__ import annotations

import uuid
from datetime import datetime, time

import asyncpg
from wattline_contracts.reconciliation import DataRequestRaisedV1

from wattline_reconciliation.adapters import store
from wattline_reconciliation.domain.energy import COPENHAGEN
from wattline_reconciliation.domain.requests import DataRequest
from wattline_reconciliation.handlers import Reconciliation


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
    await rec.service.emit(tx, event, key=str(request_id))
    return event
