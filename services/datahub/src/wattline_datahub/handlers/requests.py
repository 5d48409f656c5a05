"""Requests to DataHub: recorded by the consumer, sent by one sender job.

The consumer only turns a request event into a (sealed) document row, in the inbox's
transaction: no HTTP inside a consumer callback. The sender, one per service across replicas
(a Postgres lease, :mod:`wattline_datahub.jobs.sender`), posts pending documents, retrying
transient failures with backoff, and records the outcome with its event in one transaction.
A request id is recorded once, so one request is never sent as two documents; the document's
ids are fixed when it is recorded, so a resend after a crash mid-send is the same message to
DataHub.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from wattline_cim import build_document, dumps, validate
from wattline_contracts import Envelope
from wattline_contracts.datahub import RequestFailedV1, RequestSentV1
from wattline_contracts.portfolio import (
    DataHubRequestRaisedV1,
    message_id_for,
    transaction_id_for,
)
from wattline_contracts.reconciliation import DataRequestRaisedV1
from wattline_platform.logging import get_logger
from wattline_platform.pii import PiiCipher, PiiError

from wattline_datahub.adapters import outbound_requests
from wattline_datahub.adapters.datahub_client import Rejected
from wattline_datahub.domain.outbound import InvalidRequest, to_document
from wattline_datahub.handlers import Datahub
from wattline_datahub.handlers.calls import call_datahub

log = get_logger(__name__)


async def record_request(
    dh: Datahub, tx: asyncpg.Connection, event: DataHubRequestRaisedV1, envelope: Envelope
) -> None:
    """Consumer handler: build, check and keep the document (sealed), or fail the request."""
    message_id = message_id_for(event.request_id)
    transaction_id = transaction_id_for(event.request_id)
    try:
        customer_id = _unseal(dh.cipher, event.customer_id_sealed)
        document_type, doc = to_document(
            event,
            customer_id=customer_id,
            supplier_gln=dh.settings.supplier_gln,
            message_id=message_id,
            transaction_id=transaction_id,
            now=envelope.occurred_at,
        )
        body = build_document(doc)
        validate(body)
        sealed = _seal(dh.cipher, dumps(body))
    except (InvalidRequest, PiiError, ValueError) as exc:
        if await outbound_requests.insert(
            tx,
            event.request_id,
            event.kind,
            event.gsrn,
            "none",
            b"",
            transaction_id,
            "failed",
            str(exc),
        ):
            await dh.service.emit(
                tx,
                RequestFailedV1(
                    request_id=event.request_id,
                    kind=event.kind,
                    gsrn=event.gsrn,
                    reason=str(exc),
                ),
                key=event.gsrn or event.request_id,
            )
        return
    await outbound_requests.insert(
        tx,
        event.request_id,
        event.kind,
        event.gsrn,
        document_type,
        sealed,
        transaction_id,
        "pending",
    )


async def record_data_request(
    dh: Datahub, tx: asyncpg.Connection, event: DataRequestRaisedV1, envelope: Envelope
) -> None:
    """Consumer handler: what reconciliation asks DataHub for goes the portfolio's requests'
    way (the same document building, checks, idempotency on request_id, and sending)."""
    await record_request(
        dh,
        tx,
        DataHubRequestRaisedV1(
            request_id=event.request_id,
            kind=event.kind,
            gsrn=event.gsrn,
            grid_area=event.grid_area,
            metering_point_type=event.metering_point_type,
            period_start=event.period_start,
            period_end=event.period_end,
        ),
        envelope,
    )


async def send_pending(dh: Datahub) -> int:
    """Send what is pending; return how many requests got an outcome."""
    async with dh.service.database.connection() as conn:
        rows = await outbound_requests.pending(conn, 20)
    for row in rows:
        body = _open(dh.cipher, bytes(row["document"]))
        document_type: str = row["document_type"]

        async def send(document_type: str = document_type, body: bytes = body) -> None:
            await dh.client.send(document_type, body)

        try:
            await call_datahub("send", send, dh.settings.max_backoff_s)
            state, error = "sent", None
        except Rejected as exc:
            state, error = "failed", str(exc)
        async with dh.service.database.transaction() as tx:
            if not await outbound_requests.finish(tx, str(row["request_id"]), state, error):
                continue
            key = row["gsrn"] or str(row["request_id"])
            if state == "sent":
                await dh.service.emit(
                    tx,
                    RequestSentV1(
                        request_id=str(row["request_id"]),
                        kind=row["kind"],
                        gsrn=row["gsrn"],
                        transaction_id=row["transaction_id"],
                        sent_at=datetime.now(UTC),
                    ),
                    key=key,
                )
            else:
                log.error(
                    "datahub_request_rejected",
                    request_id=str(row["request_id"]),
                    kind=row["kind"],
                    error=error,
                )
                await dh.service.emit(
                    tx,
                    RequestFailedV1(
                        request_id=str(row["request_id"]),
                        kind=row["kind"],
                        gsrn=row["gsrn"],
                        reason=error or "rejected",
                    ),
                    key=key,
                )
    return len(rows)


def _unseal(cipher: PiiCipher | None, sealed: str | None) -> str | None:
    if sealed is None:
        return None
    if cipher is None:
        raise InvalidRequest("a sealed customer id needs PII_KEY")
    return cipher.open(sealed)


def _seal(cipher: PiiCipher | None, document: bytes) -> bytes:
    # The document may hold a CPR number: at rest it is sealed like any personal data.
    return cipher.seal(document.decode()).encode() if cipher else document


def _open(cipher: PiiCipher | None, stored: bytes) -> bytes:
    return cipher.open(stored.decode()).encode() if cipher else stored
