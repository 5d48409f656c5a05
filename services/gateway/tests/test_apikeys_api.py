"""API keys managed over /api/api-keys (the back office's page): only an admin creates, lists
and revokes them; the secret is answered once and never listed; a revoked key is refused by
this gateway at once; every call is on the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.handlers import create_api_key, create_backoffice_user
from wattline_platform import migrations
from wattline_platform.testing import serve_app

Gateway = tuple[httpx.AsyncClient, asyncpg.Connection]


@pytest.fixture
async def gateway(postgres_dsn: str) -> AsyncIterator[Gateway]:
    @get(["/api/settlement/{rest:path}"], include_in_schema=False)
    async def echo(rest: FromPath[str]) -> dict[str, str]:
        return {"rest": rest}

    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        async with serve_app(Litestar([echo])) as upstream:
            service = build(
                GatewaySettings(database_url=postgres_dsn, services={"settlement": upstream})
            )
            async with serve_app(service.app()) as base, httpx.AsyncClient(base_url=base) as client:
                yield client, conn
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    return body


async def test_admin_creates_lists_and_revokes_a_key_that_works_until_revoked(
    gateway: Gateway,
) -> None:
    client, conn = gateway
    admin = {"X-API-Key": await create_api_key(conn, "ops", ["admin"])}

    created = await client.post(
        "/api/api-keys",
        json={"name": "erp", "scopes": ["settlement:read"], "rate_limit_per_minute": 120},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["key"]
    assert secret.startswith(f"wl_{body['prefix']}_")
    assert body["scopes"] == ["settlement:read"]
    assert body["channel"] is None
    assert body["rate_limit_per_minute"] == 120
    assert body["revoked_at"] is None

    listed = await client.get("/api/api-keys", headers=admin)
    assert listed.status_code == 200, listed.text
    erp = {row["name"]: row for row in listed.json()}["erp"]
    assert erp["prefix"] == body["prefix"]
    assert "key" not in erp and "key_hash" not in erp
    assert secret not in listed.text

    # The new key works through the proxy, within its scopes.
    works = await client.get("/api/settlement/runs", headers={"X-API-Key": secret})
    assert works.status_code == 200, works.text
    assert works.json() == {"rest": "/runs"}
    assert (
        await client.post("/api/settlement/runs", headers={"X-API-Key": secret})
    ).status_code == 403

    revoked = await client.delete("/api/api-keys/erp", headers=admin)
    assert revoked.status_code == 204, revoked.text
    # Refused at once (the key was in this gateway's cache a moment ago).
    _problem(await client.get("/api/settlement/runs", headers={"X-API-Key": secret}), 401)
    after = {row["name"]: row for row in (await client.get("/api/api-keys", headers=admin)).json()}
    assert after["erp"]["revoked_at"] is not None

    trail = (await client.get("/api/audit", params={"key": "ops"}, headers=admin)).json()
    calls = [(e["method"], e["path"], e["target"], e["status"]) for e in trail["items"]]
    assert ("POST", "/api/api-keys", "erp", 201) in calls
    assert ("DELETE", "/api/api-keys/erp", "erp", 204) in calls


async def test_bad_requests_are_problems(gateway: Gateway) -> None:
    client, conn = gateway
    admin = {"X-API-Key": await create_api_key(conn, "ops", ["admin"])}

    bad_scope = await client.post(
        "/api/api-keys", json={"name": "erp", "scopes": ["settlement:delete"]}, headers=admin
    )
    assert "settlement:delete" in _problem(bad_scope, 400)["detail"]
    bad_channel = await client.post(
        "/api/api-keys",
        json={"name": "erp", "scopes": ["signup:write"], "channel": "Web Shop"},
        headers=admin,
    )
    assert "Web Shop" in _problem(bad_channel, 400)["detail"]
    _problem(
        await client.post(
            "/api/api-keys", json={"name": "a:b", "scopes": ["admin"]}, headers=admin
        ),
        400,
    )
    _problem(
        await client.post("/api/api-keys", json={"name": "x", "scopes": []}, headers=admin), 400
    )

    taken = await client.post(
        "/api/api-keys", json={"name": "ops", "scopes": ["admin"]}, headers=admin
    )
    assert "ops" in _problem(taken, 409)["detail"]
    assert await conn.fetchval("SELECT count(*) FROM api_keys") == 1

    _problem(await client.delete("/api/api-keys/nobody", headers=admin), 404)


async def test_only_an_admin_back_office_caller_manages_keys(gateway: Gateway) -> None:
    client, conn = gateway
    reader = {"X-API-Key": await create_api_key(conn, "reader", ["settlement:write"])}
    channel = {"X-API-Key": await create_api_key(conn, "shop", ["admin"], channel="webshop")}
    for headers in (reader, channel):
        _problem(await client.get("/api/api-keys", headers=headers), 403)
        refused = await client.post(
            "/api/api-keys", json={"name": "mine", "scopes": ["admin"]}, headers=headers
        )
        _problem(refused, 403)
        _problem(await client.delete("/api/api-keys/reader", headers=headers), 403)
    _problem(await client.get("/api/api-keys"), 401)
    assert await conn.fetchval("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL") == 2


async def test_a_back_office_admin_session_manages_keys_with_the_csrf_header(
    gateway: Gateway,
) -> None:
    client, conn = gateway
    await create_backoffice_user(conn, "anna", ["admin"], password="a long test password")
    login = await client.post(
        "/api/session", json={"username": "anna", "password": "a long test password"}
    )
    assert login.status_code == 200, login.text
    wanted = {"name": "erp", "scopes": ["settlement:read"]}

    csrf = _problem(await client.post("/api/api-keys", json=wanted), 403)
    assert csrf["type"].endswith("csrf")
    created = await client.post(
        "/api/api-keys", json=wanted, headers={"X-Requested-By": "wattline-backoffice"}
    )
    assert created.status_code == 201, created.text
    assert [row["name"] for row in (await client.get("/api/api-keys")).json()] == ["erp"]
    entry = await conn.fetchrow(
        "SELECT key_name, target, status FROM audit_log WHERE path = '/api/api-keys'"
    )
    assert dict(entry) == {"key_name": "user:anna", "target": "erp", "status": 201}
