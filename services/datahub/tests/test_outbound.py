"""Requests to DataHub: recorded once, sent, answered, failed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from wattline_contracts import Envelope
from wattline_contracts.portfolio import DataHubRequestRaisedV1
from wattline_contracts.reconciliation import DataRequestRaisedV1
from wattline_datahub.handlers import requests

if TYPE_CHECKING:
    from conftest import Rig

UNKNOWN_GSRN = "571313199900000015"  # not in the simulator's market


def _request(rig: Rig, **fields: object) -> tuple[DataHubRequestRaisedV1, Envelope]:
    assert rig.dh.cipher is not None
    values: dict[str, object] = {
        "request_id": str(uuid.uuid4()),
        "kind": "BRS-001",
        "gsrn": UNKNOWN_GSRN,
        "effective_date": date(2025, 2, 1),
        "balance_responsible_gln": "5799994000022",
        "customer_scheme": "VAT",
        "customer_id_sealed": rig.dh.cipher.seal("30000005"),
        "customer_name": "Eksempel ApS",
    }
    event = DataHubRequestRaisedV1.model_validate({**values, **fields})
    return event, Envelope.wrap(event, key=UNKNOWN_GSRN, producer="portfolio", correlation_id="c")


async def _outbox(rig: Rig) -> list[dict[str, object]]:
    rows = await rig.service.database.fetch("SELECT envelope FROM outbox ORDER BY id")
    return [json.loads(r["envelope"]) for r in rows]


async def test_a_change_of_supplier_is_sent_once_and_its_rejection_comes_back(rig: Rig) -> None:
    event, envelope = _request(rig)
    for _ in range(2):  # a redelivered request event is recorded once
        async with rig.service.database.transaction() as tx:
            await requests.record_request(rig.dh, tx, event, envelope)
    stored = await rig.service.database.fetchrow("SELECT document FROM outbound_requests")
    assert stored is not None and b"30000005" not in bytes(stored["document"])  # sealed at rest

    assert await requests.send_pending(rig.dh) == 1
    assert await requests.send_pending(rig.dh) == 0
    [process] = (await rig.sim.get("/sim/processes")).json()
    assert process["gsrn"] == UNKNOWN_GSRN
    sent = [e for e in await _outbox(rig) if e["type"] == "datahub.request.sent"]
    assert len(sent) == 1 and sent[0]["payload"]["kind"] == "BRS-001"
    transaction_id = sent[0]["payload"]["transaction_id"]

    await rig.drain("MasterData")  # DataHub's answer: the metering point is unknown
    [answer] = [e for e in await _outbox(rig) if e["type"] == "datahub.process.answered"]
    assert answer["payload"]["original_transaction_id"] == transaction_id
    assert answer["payload"]["accepted"] is False
    assert answer["payload"]["reasons"][0]["code"] == "E10"


async def test_a_request_that_cannot_become_a_document_fails_at_once(rig: Rig) -> None:
    event, envelope = _request(rig, effective_date=None)
    async with rig.service.database.transaction() as tx:
        await requests.record_request(rig.dh, tx, event, envelope)
    [failed] = await _outbox(rig)
    assert failed["type"] == "datahub.request.failed"
    assert "effective_date is required" in failed["payload"]["reason"]
    assert await requests.send_pending(rig.dh) == 0


async def test_a_cancellation_of_an_unknown_request_is_rejected_with_d06(rig: Rig) -> None:
    event = DataHubRequestRaisedV1(
        request_id=str(uuid.uuid4()),
        kind="RSM-002",
        gsrn=UNKNOWN_GSRN,
        cancels_request_id=str(uuid.uuid4()),
        cancels_kind="BRS-001",
    )
    envelope = Envelope.wrap(event, key=UNKNOWN_GSRN, producer="portfolio", correlation_id="c")
    async with rig.service.database.transaction() as tx:
        await requests.record_request(rig.dh, tx, event, envelope)
    assert await requests.send_pending(rig.dh) == 1
    await rig.drain("MasterData")
    [answer] = [e for e in await _outbox(rig) if e["type"] == "datahub.process.answered"]
    assert answer["payload"]["accepted"] is False
    assert answer["payload"]["reasons"][0]["code"] == "D06"


async def test_reconciliation_s_request_for_missing_totals_is_sent_once(rig: Rig) -> None:
    event = DataRequestRaisedV1(
        request_id=str(uuid.uuid4()),
        kind="RSM-016",
        grid_area="344",
        period_start=datetime(2025, 1, 14, 23, tzinfo=UTC),
        period_end=datetime(2025, 1, 15, 23, tzinfo=UTC),
    )
    envelope = Envelope.wrap(
        event, key=event.request_id, producer="reconciliation", correlation_id="c"
    )
    for _ in range(2):  # a redelivered request event is recorded once
        async with rig.service.database.transaction() as tx:
            await requests.record_data_request(rig.dh, tx, event, envelope)
    stored = await rig.service.database.fetchrow(
        "SELECT kind, state FROM outbound_requests WHERE request_id = $1",
        uuid.UUID(event.request_id),
    )
    assert stored is not None and stored["kind"] == "RSM-016"
    assert await requests.send_pending(rig.dh) == 1
    assert await requests.send_pending(rig.dh) == 0
    sent = [e for e in await _outbox(rig) if e["type"] == "datahub.request.sent"]
    assert [(s["payload"]["kind"], s["payload"]["request_id"]) for s in sent] == [
        ("RSM-016", event.request_id)
    ]


async def test_reconciliation_s_request_for_a_month_s_wholesale_settlement_is_sent(
    rig: Rig,
) -> None:
    event = DataRequestRaisedV1(
        request_id=str(uuid.uuid4()),
        kind="RSM-017",
        grid_area="344",
        period_start=datetime(2024, 12, 31, 23, tzinfo=UTC),
        period_end=datetime(2025, 1, 31, 23, tzinfo=UTC),
    )
    envelope = Envelope.wrap(
        event, key=event.request_id, producer="reconciliation", correlation_id="c"
    )
    async with rig.service.database.transaction() as tx:
        await requests.record_data_request(rig.dh, tx, event, envelope)
    stored = await rig.service.database.fetchrow(
        "SELECT kind, document_type, state FROM outbound_requests WHERE request_id = $1",
        uuid.UUID(event.request_id),
    )
    assert stored is not None
    assert (stored["kind"], stored["document_type"], stored["state"]) == (
        "RSM-017",
        "RequestWholesaleSettlement",
        "pending",
    )
    assert await requests.send_pending(rig.dh) == 1
    [sent] = [e for e in await _outbox(rig) if e["type"] == "datahub.request.sent"]
    assert sent["payload"]["kind"] == "RSM-017"  # type: ignore[index]
    assert sent["payload"]["request_id"] == event.request_id  # type: ignore[index]


async def test_reconciliation_s_request_that_cannot_be_built_fails_with_its_reason(
    rig: Rig,
) -> None:
    event = DataRequestRaisedV1(  # a wholesale settlement without its grid area
        request_id=str(uuid.uuid4()),
        kind="RSM-017",
        period_start=datetime(2024, 12, 31, 23, tzinfo=UTC),
        period_end=datetime(2025, 1, 31, 23, tzinfo=UTC),
    )
    envelope = Envelope.wrap(
        event, key=event.request_id, producer="reconciliation", correlation_id="c"
    )
    async with rig.service.database.transaction() as tx:
        await requests.record_data_request(rig.dh, tx, event, envelope)
    [failed] = [e for e in await _outbox(rig) if e["type"] == "datahub.request.failed"]
    assert failed["payload"]["request_id"] == event.request_id  # type: ignore[index]
    assert "grid_area is required" in failed["payload"]["reason"]  # type: ignore[index]
