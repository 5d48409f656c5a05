"""DataHub integration end to end: the simulator serves a day, faults and all; the datahub
service stores and publishes every good message exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest
from scenario import Scenario, eventually

pytestmark = pytest.mark.e2e

FAULTS: list[dict[str, Any]] = [
    {"kind": "unauthorized", "count": 1},
    {"category": "MeasureData", "kind": "unavailable", "count": 3},
    {"kind": "throttled", "count": 2, "retry_after": 1},
    {"category": "MeasureData", "kind": "malformed", "count": 2},
    {"category": "Aggregations", "kind": "schema_invalid", "count": 1},
    {"category": "MeasureData", "kind": "duplicate", "count": 2},
    {"category": "MeasureData", "kind": "slow", "count": 2, "delay_ms": 300},
    {"category": "Wholesale", "kind": "down", "count": -1},
]


def _classify(served: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Message ids the simulator served deliberately broken, and the good ones."""
    ids = {e["message_id"] for e in served if e["status"] == 200}
    broken = {e["message_id"] for e in served if e["fault"] in ("malformed", "schema_invalid")}
    return broken, ids - broken


async def _stored(system: Scenario) -> dict[str, Any]:
    rows = await system.sql("SELECT message_id, status, reason FROM datahub.inbound_messages")
    events = await system.sql(
        """SELECT event_type, envelope->'payload'->>'gsrn' AS gsrn,
                  envelope->'payload'->>'local_date' AS day,
                  envelope->'payload'->>'transaction_id' AS tx
           FROM datahub.outbox"""
    )
    return {"messages": rows, "events": events}


async def test_a_day_with_every_fault_kind_is_stored_exactly_once(system: Scenario) -> None:
    # Given a market of 1000 points and DataHub failing in every way it can
    seeded = await system.given_a_market(metering_points=1000, seed=7)
    assert seeded.status_code in (200, 201), seeded.text
    for fault in FAULTS:
        await system.when_a_fault_is_injected(**fault)
    # When a day passes
    await system.when_a_day_passes()
    await system.then_datahub_has_sent_everything(but="Wholesale")  # that category is down ...
    assert (await system.simulator("GET", "/sim/queues")).json().get("Wholesale")
    await system.when_the_faults_clear()  # ... until it comes back
    await system.then_datahub_has_sent_everything()
    await asyncio.sleep(2)  # the last dequeue's transaction is long committed by now
    served = (await system.simulator("GET", "/sim/served")).json()
    generated = (await system.simulator("GET", "/sim/generated")).json()

    stored = await _stored(system)
    by_status: dict[str, set[str]] = {}
    for row in stored["messages"]:
        by_status.setdefault(row["status"], set()).add(row["message_id"])
    broken, good = _classify(served)
    faults_seen = {e["fault"] for e in served if e["fault"]}
    print(
        f"\nsimulator served {len(served)} answers: {len(good)} good messages, "
        f"{len(broken)} broken, faults {sorted(faults_seen)}; datahub stored "
        f"{len(by_status.get('stored', ()))}, "
        f"dead-lettered {len(by_status.get('dead_lettered', ()))}"
    )

    assert {
        "unauthorized",
        "unavailable",
        "throttled",
        "malformed",
        "schema_invalid",
        "duplicate",
        "down",
    } <= faults_seen
    assert by_status.get("stored", set()) == good
    assert by_status.get("dead_lettered", set()) == broken
    assert len(broken) == 3
    reasons = {r["reason"] for r in stored["messages"] if r["status"] == "dead_lettered"}
    assert all(reasons) and any("JSON" in r for r in reasons)

    measure = [
        (e["tx"], e["gsrn"], e["day"])
        for e in stored["events"]
        if e["event_type"] == "datahub.measure_data.received"
    ]
    assert len(measure) == len(set(measure)) == generated["series"]["MeasureData"]

    # ... and the relay published every one of those events to the broker.
    unpublished = await eventually(
        lambda: system.sql("SELECT count(*) AS n FROM datahub.outbox WHERE published_at IS NULL"),
        lambda rows: rows[0]["n"] == 0,
        10,
    )
    assert unpublished[0]["n"] == 0

    # Back office sees the dead letters through the gateway; retrying one still fails.
    async with system.client() as api:
        listed = (await api.get("/api/datahub/dead-letters")).json()
        assert listed["total"] == 3 and {i["id"] for i in listed["items"]} == broken
        retry = await api.post(f"/api/datahub/dead-letters/{listed['items'][0]['id']}/retry")
        assert retry.status_code == 422
        assert retry.headers["content-type"].startswith("application/problem+json")
    aggregations = [
        e for e in stored["events"] if e["event_type"] == "datahub.aggregations.received"
    ]
    assert len(aggregations) == generated["series"]["Aggregations"]


async def test_kill_9_of_the_datahub_service_while_it_polls_loses_and_duplicates_nothing(
    system: Scenario,
) -> None:
    await system.given_a_market(metering_points=1000, seed=7)
    before = len((await system.simulator("GET", "/sim/served")).json())
    await system.simulator("POST", "/sim/clock", json={"advance_days": 1})
    victim = system.pid("datahub")
    while len((await system.simulator("GET", "/sim/served")).json()) < before + 5:
        await asyncio.sleep(0.05)
    os.kill(victim, signal.SIGKILL)
    await system.then_datahub_has_sent_everything()
    await asyncio.sleep(2)
    served = (await system.simulator("GET", "/sim/served")).json()
    assert system.pid("datahub") != victim
    stored = await _stored(system)
    _, good = _classify(served)
    assert {r["message_id"] for r in stored["messages"] if r["status"] == "stored"} == good
    measure = [
        (e["tx"], e["gsrn"], e["day"])
        for e in stored["events"]
        if e["event_type"] == "datahub.measure_data.received"
    ]
    assert len(measure) == len(set(measure)), "a metering point's day was published twice"
