"""The datahub service polling the simulator over real HTTP: store, publish, dequeue."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Rig


async def test_measure_data_is_stored_published_per_local_day_and_dequeued(rig: Rig) -> None:
    message_id = await rig.queue(
        "MeasureData", "rsm012-validated-measure-data-pt1h-2025-01-15.json"
    )
    results = await rig.drain("MeasureData")
    assert [(r.outcome, r.events) for r in results] == [("stored", 1)]
    [event] = await rig.outbox()
    assert event["type"] == "datahub.measure_data.received"
    assert event["key"] == "571313199900000015"
    payload = event["payload"]
    assert payload["local_date"] == "2025-01-15"
    assert payload["datahub_message_id"] == message_id
    assert len(payload["quantities_kwh"]) == 24
    assert payload["qualities"][17] == "A03"  # position 18 is estimated
    assert (await rig.sim.get("/sim/queues")).json() == {}


async def test_a_duplicate_delivery_is_stored_once(rig: Rig) -> None:
    await rig.sim.post("/sim/faults", json={"category": "MasterData", "kind": "duplicate"})
    await rig.queue("MasterData", "rsm022-accounting-point-characteristics.json")
    results = await rig.drain("MasterData")
    assert [r.outcome for r in results] == ["stored", "duplicate"]
    assert [e["type"] for e in await rig.outbox()] == ["datahub.master_data.received"]


async def test_bad_messages_are_dead_lettered_and_the_queue_moves_on(rig: Rig) -> None:
    await rig.sim.post("/sim/faults", json={"category": "MasterData", "kind": "malformed"})
    await rig.sim.post("/sim/faults", json={"category": "MasterData", "kind": "schema_invalid"})
    await rig.queue("MasterData", "rsm004-generic-notification-end-of-supply.json")
    results = await rig.drain("MasterData")
    assert [r.outcome for r in results] == ["dead_lettered", "dead_lettered", "stored"]
    assert "JSON" in (results[0].reason or "")
    assert [e["type"] for e in await rig.outbox()] == ["datahub.notification.received"]


async def test_failures_are_retried_with_backoff_until_datahub_answers(rig: Rig) -> None:
    await rig.queue("Aggregations", "rsm014-aggregated-measure-data-ga344-2025-01-15.json")
    await rig.sim.post(
        "/sim/faults", json={"category": "Aggregations", "kind": "unavailable", "count": 2}
    )
    await rig.sim.post("/sim/faults", json={"kind": "throttled", "count": 1, "retry_after": 0})
    await rig.sim.post("/sim/faults", json={"kind": "unauthorized", "count": 1})
    results = await rig.drain("Aggregations")
    assert [r.outcome for r in results] == ["stored"]
    [event] = await rig.outbox()
    assert event["type"] == "datahub.aggregations.received" and event["key"] == "344"
    served = [(e["status"], e["fault"]) for e in (await rig.sim.get("/sim/served")).json()]
    assert (401, "unauthorized") in served and (429, "throttled") in served
    assert served.count((503, "unavailable")) == 2


async def test_every_inbound_fixture_becomes_events(rig: Rig) -> None:
    expected = {
        "rsm001-confirm-request-change-of-supplier.json": "datahub.process.answered",
        "rsm001-reject-request-change-of-supplier.json": "datahub.process.answered",
        "rsm031-notify-billing-master-data-charge-links.json": "datahub.charge_link.received",
        "rsm034-notify-price-list-charge-information.json": "datahub.charge.received",
        "rsm034-notify-price-list-prices.json": "datahub.charge.received",
        "rsm012-validated-measure-data-pt15m-2025-10-15.json": "datahub.measure_data.received",
        "rsm012-validated-measure-data-pt1h-dst-2025-03-30.json": "datahub.measure_data.received",
    }
    for fixture in expected:
        await rig.queue("Wholesale", fixture)
    results = await rig.drain("Wholesale")
    assert all(r.outcome == "stored" for r in results), [r.reason for r in results]
    types = {e["type"] for e in await rig.outbox()}
    assert types == set(expected.values())
    rejected = [
        e
        for e in await rig.outbox()
        if e["type"] == "datahub.process.answered" and not e["payload"]["accepted"]
    ]
    assert rejected[0]["payload"]["reasons"][0]["code"] == "E17"
