"""DataHub's answers to what we sent: a rejection closes our request with its reasons, an
acknowledgement and a reminder of missing data become events, the reminder reaches operators."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from litestar import Litestar
from litestar.di import Provide
from prometheus_client import REGISTRY
from wattline_datahub import api
from wattline_datahub.adapters import outbound_requests
from wattline_datahub.handlers.inbound import store_inbound
from wattline_platform.problem import EXCEPTION_HANDLERS
from wattline_platform.testing import serve_app

if TYPE_CHECKING:
    from conftest import Rig

ANSWERS = Path(__file__).resolve().parents[3] / "libs" / "wattline_cim" / "tests" / "answers"


async def _given_a_sent_request(rig: Rig, kind: str, transaction_id: str) -> str:
    request_id = str(uuid.uuid4())
    async with rig.service.database.transaction() as tx:
        assert await outbound_requests.insert(
            tx,
            request_id,
            kind,
            None,
            "RequestAggregatedMeasureData",
            b"{}",
            transaction_id,
            "sent",
        )
    return request_id


async def test_a_rejection_closes_our_request_with_its_reasons(rig: Rig) -> None:
    request_id = await _given_a_sent_request(rig, "RSM-016", "aggregation-request-1")
    other = await _given_a_sent_request(rig, "RSM-016", "aggregation-request-2")
    raw = (ANSWERS / "rsm016-reject-request-aggregated-measure-data.json").read_bytes()
    stored = await store_inbound(rig.service, "Aggregations", "reject-1", raw)
    assert (stored.outcome, stored.events) == ("stored", 1)

    row = await rig.service.database.fetchrow(
        "SELECT state, last_error, answered_at FROM outbound_requests WHERE request_id = $1",
        uuid.UUID(request_id),
    )
    assert row["state"] == "rejected"
    assert row["last_error"] == (
        "E0H Der er ikke modtaget data for perioden; D66 Perioden er ugyldig"
    )
    assert row["answered_at"] is not None
    untouched = await rig.service.database.fetchval(
        "SELECT state FROM outbound_requests WHERE request_id = $1", uuid.UUID(other)
    )
    assert untouched == "sent"

    [event] = await rig.outbox()
    assert (event["type"], event["key"]) == (
        "datahub.data_request.rejected",
        "aggregation-request-1",
    )
    payload = event["payload"]
    assert (payload["request_kind"], payload["original_transaction_id"]) == (
        "RSM-016",
        "aggregation-request-1",
    )
    assert [r["code"] for r in payload["reasons"]] == ["E0H", "D66"]


async def test_an_rsm015_rejection_is_keyed_by_its_metering_point(rig: Rig) -> None:
    raw = (ANSWERS / "rsm015-reject-request-validated-measure-data.json").read_bytes()
    stored = await store_inbound(rig.service, "MeasureData", "reject-015", raw)
    assert (stored.outcome, stored.events) == ("stored", 1)
    [event] = await rig.outbox()
    assert event["key"] == "571313199900000015"
    assert event["payload"]["reasons"] == [
        {"code": "E16", "text": "Målepunktet findes ikke eller er ikke tilknyttet dig"}
    ]


async def test_an_acknowledgement_says_what_datahub_refused(rig: Rig) -> None:
    raw = (ANSWERS / "rsm009-acknowledgement.json").read_bytes()
    assert (await store_inbound(rig.service, "MasterData", "ack-1", raw)).outcome == "stored"
    [event] = await rig.outbox()
    assert (event["type"], event["key"]) == ("datahub.acknowledgement.received", "our-document-1")
    payload = event["payload"]
    assert payload["accepted"] is False
    assert payload["rejected_transactions"] == [
        {
            "transaction_id": "our-series-2",
            "reasons": [{"code": "E10", "text": "Målepunktet findes ikke"}],
        }
    ]


async def test_a_reminder_of_missing_data_reaches_the_operators(rig: Rig) -> None:
    before = REGISTRY.get_sample_value("wattline_datahub_missing_data_reminders_total") or 0.0
    raw = (ANSWERS / "rsm018-reminder-of-missing-measure-data.json").read_bytes()
    stored = await store_inbound(rig.service, "MeasureData", "reminder-1", raw)
    assert (stored.outcome, stored.events) == ("stored", 2)
    events = await rig.outbox()
    assert [(e["type"], e["key"], e["payload"]["missing_since"]) for e in events] == [
        ("datahub.missing_data.reminded", "571313199900000015", "2025-02-01T23:00:00Z"),
        ("datahub.missing_data.reminded", "571313199900000022", "2025-02-01T23:00:00Z"),
    ]
    after = REGISTRY.get_sample_value("wattline_datahub_missing_data_reminders_total")
    assert after == before + 2


async def test_datahubs_wholesale_settlement_is_published_per_charge(rig: Rig) -> None:
    raw = (ANSWERS / "rsm019-notify-wholesale-services.json").read_bytes()
    stored = await store_inbound(rig.service, "Aggregations", "rsm019-1", raw)
    assert (stored.outcome, stored.events) == ("stored", 2)
    tariff, subscription = (e for e in await rig.outbox())
    assert (tariff["type"], tariff["key"]) == ("datahub.wholesale_services.received", "344")
    payload = tariff["payload"]
    assert (payload["charge_owner_gln"], payload["charge_type"], payload["charge_id"]) == (
        "5790000610099",
        "D03",
        "40000",
    )
    assert [(p["quantity"], p["price"], p["amount"]) for p in payload["points"]] == [
        ("1.25", "0.4016", "0.502"),
        ("2.0", "0.4016", "0.8032"),
        ("0.8", "0.4016", "0.32128"),
    ]
    assert subscription["payload"]["points"] == [
        {"position": 1, "quantity": "1", "price": "23.2", "amount": "23.2"}
    ]


async def test_operators_list_the_reminders_newest_first(rig: Rig) -> None:
    raw = (ANSWERS / "rsm018-reminder-of-missing-measure-data.json").read_bytes()
    await store_inbound(rig.service, "MeasureData", "reminder-1", raw)
    await store_inbound(rig.service, "MeasureData", "reminder-1", raw)  # redelivered
    # The service's routes with its problem+json handlers, without its lifespan (the rig's
    # service has its database and no broker): identity is the gateway's part, tested there.
    app = Litestar(
        route_handlers=api.ROUTES,
        dependencies={"service": Provide(lambda: rig.service, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as client:
        first = await client.get("/api/datahub/missing-data-reminders", params={"limit": 1})
        assert first.status_code == 200, first.text
        [newest] = first.json()["items"]
        assert (newest["gsrn"], newest["missing_since"]) == (
            "571313199900000022",
            "2025-02-01T23:00:00Z",
        )
        after = first.json()["next_after"]
        rest = await client.get(
            "/api/datahub/missing-data-reminders", params={"after": after, "limit": 10}
        )
        assert [i["gsrn"] for i in rest.json()["items"]] == ["571313199900000015"]
        assert rest.json()["next_after"] is None
        one = await client.get(
            "/api/datahub/missing-data-reminders", params={"gsrn": "571313199900000015"}
        )
        assert [i["transaction_id"] for i in one.json()["items"]] == ["reminder-1"]
        for after in ("x", "0", str(2**63)):  # schemathesis found 2**63 + 1000 a 500
            bad = await client.get("/api/datahub/missing-data-reminders", params={"after": after})
            assert bad.status_code == 400, (after, bad.text)
            assert bad.headers["content-type"].startswith("application/problem+json")
