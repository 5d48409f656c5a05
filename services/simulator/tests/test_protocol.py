"""The simulator's B2B protocol and fault injection, on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from wattline_cim import ChangeOfSupplierRequest, build_document, dumps
from wattline_platform import migrations
from wattline_platform.testing import identity_auth
from wattline_simulator.bootstrap import SPEC, build
from wattline_simulator.settings import SimulatorSettings

CIM = "/v1.0/cim"


@pytest.fixture
async def sim(postgres_dsn: str) -> AsyncIterator[AsyncTestClient]:
    conn = await asyncpg.connect(postgres_dsn)
    await conn.execute("DROP SCHEMA IF EXISTS simulator CASCADE")
    await migrations.apply(conn, "simulator", SPEC.migrations())
    service = build(SimulatorSettings(database_url=postgres_dsn, token_ttl_s=60))
    try:
        async with AsyncTestClient(app=service.app()) as client:
            client.auth = identity_auth()  # as the gateway forwards it
            yield client
    finally:
        await conn.execute("DROP SCHEMA simulator CASCADE")
        await conn.close()


async def _token(client: AsyncTestClient) -> dict[str, str]:
    response = await client.post(
        "/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "wattline",
            "client_secret": "dev-secret",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    return {"Authorization": f"Bearer {body['access_token']}"}


async def test_token_peek_dequeue_and_served_log(sim: AsyncTestClient) -> None:
    bad = await sim.post(
        "/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "wattline", "client_secret": "nope"},
    )
    assert bad.status_code == 401
    assert (await sim.get(f"{CIM}/peek/MeasureData")).status_code == 401
    auth = await _token(sim)

    assert (await sim.get(f"{CIM}/peek/MeasureData", headers=auth)).status_code == 204
    assert (await sim.get(f"{CIM}/peek/Nonsense", headers=auth)).status_code == 404
    queued = await sim.post("/sim/messages/MeasureData", content=b'{"A_MarketDocument": {}}')
    message_id = queued.json()["message_id"]

    first = await sim.get(f"{CIM}/peek/MeasureData", headers=auth)
    again = await sim.get(f"{CIM}/peek/MeasureData", headers=auth)
    assert first.status_code == again.status_code == 200
    assert first.headers["MessageId"] == again.headers["MessageId"] == message_id
    assert first.content == b'{"A_MarketDocument": {}}'
    assert (await sim.delete(f"{CIM}/dequeue/{message_id}", headers=auth)).status_code == 200
    assert (await sim.delete(f"{CIM}/dequeue/{message_id}", headers=auth)).status_code == 404
    assert (await sim.get(f"{CIM}/peek/MeasureData", headers=auth)).status_code == 204

    log = (await sim.get("/sim/served")).json()
    assert [(e["status"], e["message_id"]) for e in log] == [
        (204, None),
        (200, message_id),
        (200, message_id),
        (204, None),
    ]


async def test_injected_faults(sim: AsyncTestClient) -> None:
    auth = await _token(sim)
    await sim.post("/sim/messages/MasterData", content=b'{"B_MarketDocument": {}}')
    await sim.post(
        "/sim/faults", json={"category": "MasterData", "kind": "unavailable", "count": 2}
    )
    await sim.post("/sim/faults", json={"category": "Aggregations", "kind": "down", "count": -1})
    await sim.post("/sim/faults", json={"kind": "throttled", "count": 1, "retry_after": 7})

    throttled = await sim.get(f"{CIM}/peek/Wholesale", headers=auth)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    codes = [(await sim.get(f"{CIM}/peek/MasterData", headers=auth)).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    # A partial outage: one category down, the others answer.
    assert (await sim.get(f"{CIM}/peek/Aggregations", headers=auth)).status_code == 503
    assert (await sim.get(f"{CIM}/peek/Wholesale", headers=auth)).status_code == 204

    await sim.post("/sim/faults", json={"kind": "unauthorized", "count": 1})
    assert (await sim.get(f"{CIM}/peek/Wholesale", headers=auth)).status_code == 401
    assert (await sim.get(f"{CIM}/peek/Wholesale", headers=auth)).status_code == 204

    await sim.post("/sim/faults", json={"category": "MasterData", "kind": "duplicate", "count": 1})
    message = await sim.get(f"{CIM}/peek/MasterData", headers=auth)
    await sim.delete(f"{CIM}/dequeue/{message.headers['MessageId']}", headers=auth)
    twice = await sim.get(f"{CIM}/peek/MasterData", headers=auth)
    assert twice.headers["MessageId"] == message.headers["MessageId"]

    await sim.post("/sim/faults", json={"category": "Wholesale", "kind": "malformed", "count": 2})
    broken = await sim.get(f"{CIM}/peek/Wholesale", headers=auth)
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()

    await sim.delete("/sim/faults")
    assert (await sim.get(f"{CIM}/peek/Aggregations", headers=auth)).status_code == 204
    faults = [e["fault"] for e in (await sim.get("/sim/served")).json() if e["fault"]]
    assert faults.count("unavailable") == 2 and "down" in faults and "malformed" in faults
    assert faults.count("throttled") == 1 and faults.count("unauthorized") == 1


async def test_incoming_documents_and_clock(sim: AsyncTestClient) -> None:
    auth = await _token(sim)
    request = ChangeOfSupplierRequest(
        message_id="78d00b40-e9b6-59f2-b447-4ed4fef52105",
        sender_gln="5799994000015",
        created=datetime(2025, 1, 1, tzinfo=UTC),
        transaction_id="2038bd3d-84b7-56d9-ad13-77083e4c5ec9",
        gsrn="571313199900000015",
        effective_start=datetime(2025, 1, 31, 23, tzinfo=UTC),
        energy_supplier_gln="5799994000015",
    )
    ok = await sim.post(
        f"{CIM}/incomingMessages/RequestChangeOfSupplier",
        headers=auth,
        content=dumps(build_document(request)),
    )
    assert ok.status_code == 202
    # A document wattline_cim cannot parse is refused outright, with the reason.
    empty = await sim.post(
        f"{CIM}/incomingMessages/RequestChangeOfSupplier",
        headers=auth,
        content=b'{"RequestChangeOfSupplier_MarketDocument": {}}',
    )
    assert empty.status_code == 400 and empty.json()["error"].startswith("schema: ")
    bad = await sim.post(
        f"{CIM}/incomingMessages/RequestChangeOfSupplier", headers=auth, content=b"{nope"
    )
    assert bad.status_code == 400 and "invalid JSON" in bad.json()["error"]

    assert (await sim.get("/sim/clock")).json()["now"] == "2025-01-01T00:00:00+00:00"
    moved = await sim.post("/sim/clock", json={"advance_days": 2})
    assert moved.json()["now"] == "2025-01-03T00:00:00+00:00"
    assert (await sim.post("/sim/clock", json={"to": "2025-01-02T00:00:00Z"})).status_code == 409
