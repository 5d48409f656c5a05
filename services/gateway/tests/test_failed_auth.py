"""Failed authentication is rate limited per client address, over real HTTP: a flood of bad
keys from one address is answered 429 with Retry-After; another address is not affected."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.testing import free_port, serve_app

LIMIT = 4
Rig = tuple[str, asyncpg.Connection]


@pytest.fixture
async def rig(postgres_dsn: str) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: a forwarded call is 503
    service = build(
        GatewaySettings(
            database_url=postgres_dsn,
            services={"settlement": dead},
            failed_auth_per_minute=LIMIT,
        )
    )
    try:
        async with serve_app(service.app()) as base:
            yield base, conn
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


def _from(address: str, base: str) -> httpx.AsyncClient:
    """A client whose connections come from *address* (any 127.x.y.z is this host)."""
    return httpx.AsyncClient(
        base_url=base, transport=httpx.AsyncHTTPTransport(local_address=address)
    )


async def test_a_flood_of_bad_keys_is_limited_per_address(rig: Rig) -> None:
    base, conn = rig
    good = {"X-API-Key": await create_api_key(conn, "erp", ["settlement:read"])}
    bad = {"X-API-Key": "wl_0123456789ab_" + "x" * 40}
    async with _from("127.0.0.1", base) as attacker, _from("127.0.0.2", base) as erp:
        codes = [
            (await attacker.get("/api/settlement/runs", headers=bad)).status_code
            for _ in range(LIMIT)
        ]
        assert codes == [401] * LIMIT
        limited = await attacker.get("/api/settlement/runs", headers=bad)
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["detail"] == "too many failed authentications from this address"
        # Refused before the key is looked at: a good key from this address learns nothing.
        assert (await attacker.get("/api/settlement/runs", headers=good)).status_code == 429
        assert (await attacker.get("/api/settlement/runs")).status_code == 429

        # Another address with a good key reaches the (dead) service: 503, not 429.
        for _ in range(LIMIT + 2):
            assert (await erp.get("/api/settlement/runs", headers=good)).status_code == 503


async def test_missing_scopes_count_as_failures(rig: Rig) -> None:
    base, conn = rig
    reader = {"X-API-Key": await create_api_key(conn, "reader", ["settlement:read"])}
    async with _from("127.0.0.3", base) as client:
        codes = [
            (await client.post("/api/settlement/runs", headers=reader, json={})).status_code
            for _ in range(LIMIT + 1)
        ]
        assert codes == [403] * LIMIT + [429]
        # Reads the key may make are refused too while the address is over its limit.
        assert (await client.get("/api/settlement/runs", headers=reader)).status_code == 429
