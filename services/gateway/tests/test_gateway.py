"""The gateway app against a real PostgreSQL: keys, scopes, rate limits, services down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.handlers import create_api_key, revoke_api_key
from wattline_platform import migrations
from wattline_platform.testing import free_port


@pytest.fixture
async def gateway(postgres_dsn: str) -> AsyncIterator[tuple[AsyncTestClient, asyncpg.Connection]]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    service = build(
        GatewaySettings(database_url=postgres_dsn, services={"portfolio": dead, "settlement": dead})
    )
    try:
        async with AsyncTestClient(app=service.app()) as client:
            yield client, conn
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def test_keys_scopes_and_a_service_that_is_down(
    gateway: tuple[AsyncTestClient, asyncpg.Connection],
) -> None:
    client, conn = gateway
    key = await create_api_key(conn, "erp", ["settlement:read"])
    stored = await conn.fetchval("SELECT key_hash FROM api_keys WHERE name = 'erp'")
    assert key not in stored  # only the hash is kept

    missing = await client.get("/api/settlement/metering-points")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["type"].endswith("/unauthenticated")

    wrong = await client.get(
        "/api/settlement/metering-points", headers={"X-API-Key": key[:-2] + "xx"}
    )
    assert wrong.status_code == 401

    forbidden = await client.post(
        "/api/settlement/metering-points", headers={"Authorization": f"Bearer {key}"}, json={}
    )
    assert forbidden.status_code == 403
    other = await client.get("/api/portfolio/metering-points/1", headers={"X-API-Key": key})
    assert other.status_code == 403

    down = await client.get("/api/settlement/metering-points", headers={"X-API-Key": key})
    assert down.status_code == 503
    assert down.json()["type"].endswith("/service-unavailable")
    assert down.headers["x-correlation-id"]

    unknown = await client.get("/api/nothing/here", headers={"X-API-Key": key})
    assert unknown.status_code == 404

    for sneaky in ("/api/settlement/..%2F..%2Fmetrics", "/api/settlement/%2E%2E/%2E%2E/metrics"):
        escaped = await client.get(sneaky, headers={"X-API-Key": key})
        assert escaped.status_code in (400, 404), sneaky
        assert escaped.headers["content-type"].startswith("application/problem+json")

    assert await revoke_api_key(conn, "erp")
    assert not await revoke_api_key(conn, "erp")


async def test_rate_limit_per_key(gateway: tuple[AsyncTestClient, asyncpg.Connection]) -> None:
    client, conn = gateway
    key = await create_api_key(conn, "portal", ["settlement:read"], rate_limit_per_minute=2)
    codes = [
        (await client.get("/api/settlement/x", headers={"X-API-Key": key})).status_code
        for _ in range(3)
    ]
    assert codes == [503, 503, 429]
    limited = await client.get("/api/settlement/x", headers={"X-API-Key": key})
    assert limited.json()["retry_after"] >= 1
    assert int(limited.headers["retry-after"]) == limited.json()["retry_after"]


async def test_readiness_names_every_service_and_docs_merge(
    gateway: tuple[AsyncTestClient, asyncpg.Connection],
) -> None:
    client, _ = gateway
    ready = await client.get("/health/ready")
    assert ready.status_code == 503  # the services it routes to are down
    checks = ready.json()["checks"]
    assert {"database", "migrations", "portfolio", "settlement"} <= set(checks)
    assert checks["database"]["ok"] and not checks["portfolio"]["ok"]
    doc = (await client.get("/docs/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert sorted(doc["x-unavailable"]) == ["portfolio", "settlement"]
