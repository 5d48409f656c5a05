"""Public aliases: /api/products, /api/signup/... reach the portfolio, with its scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from wattline_gateway.api import Gateway
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.testing import free_port, serve_app


def _echo(request: Request[Any, Any, Any], body: Any = None) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "body": body,
    }


@get("/api/products")
async def products(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _echo(request)


@get("/api/signup/{signup_id:str}/status")
async def signup_status(
    request: Request[Any, Any, Any], signup_id: FromPath[str]
) -> dict[str, Any]:
    return _echo(request)


@post("/api/signup", status_code=201)
async def submit_signup(
    request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
) -> Response[dict[str, Any]]:
    key = request.headers.get("idempotency-key")
    return Response(
        {**_echo(request, data), "idempotency_key": key},
        status_code=201,
        headers={"Idempotent-Replayed": "true"} if key else {},
    )


@get("/api/portfolio/metering-points")
async def metering_points(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _echo(request)


@post("/api/portfolio/imports", status_code=201)
async def portfolio_import(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"bytes": len(await request.body())}


@get("/api/elsewhere")
async def elsewhere(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Served by the portfolio but routed to nobody: must not appear in the merged docs."""
    return _echo(request)


PORTFOLIO = Litestar(
    [products, signup_status, submit_signup, metering_points, portfolio_import, elsewhere],
    request_max_body_size=100_000_000,
)

Rig = tuple[httpx.AsyncClient, asyncpg.Connection]


@pytest.fixture
async def gateway(postgres_dsn: str) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        # Both over real HTTP in this loop: litestar's AsyncTestClient would block the loop
        # while the gateway waits for the portfolio served in it.
        async with serve_app(PORTFOLIO) as portfolio:
            service = build(
                GatewaySettings(
                    database_url=postgres_dsn,
                    services={"portfolio": portfolio, "settlement": dead},
                )
            )
            async with serve_app(service.app()) as base, httpx.AsyncClient(base_url=base) as client:
                yield client, conn
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def test_an_alias_is_forwarded_to_its_owner_at_the_same_path(gateway: Rig) -> None:
    client, conn = gateway
    key = {"X-API-Key": await create_api_key(conn, "shop", ["portfolio:write"])}

    listed = await client.get("/api/products?price_area=DK1&active=true", headers=key)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "method": "GET",
        "path": "/api/products",
        "query": "price_area=DK1&active=true",
        "body": None,
    }
    bare = await client.get("/api/products", headers=key)
    assert bare.json()["path"] == "/api/products" and bare.json()["query"] == ""

    status = await client.get("/api/signup/SGN-2026-00001/status", headers=key)
    assert status.json()["path"] == "/api/signup/SGN-2026-00001/status"

    submitted = await client.post("/api/signup", headers=key, json={"product": "spot-basic"})
    assert submitted.status_code == 201
    assert submitted.json()["body"] == {"product": "spot-basic"}
    assert submitted.json()["idempotency_key"] is None
    # A sales channel's retry key reaches the portfolio, and the replay mark comes back.
    retried = await client.post(
        "/api/signup", headers={**key, "Idempotency-Key": "web-4711"}, json={}
    )
    assert retried.json()["idempotency_key"] == "web-4711"
    assert retried.headers["idempotent-replayed"] == "true"

    own = await client.get("/api/portfolio/metering-points", headers=key)
    assert own.json()["path"] == "/api/portfolio/metering-points"


async def test_an_alias_is_authorised_with_its_owners_scopes(gateway: Rig) -> None:
    client, conn = gateway
    reader = {"X-API-Key": await create_api_key(conn, "catalogue", ["portfolio:read"])}
    other = {"X-API-Key": await create_api_key(conn, "erp", ["settlement:write"])}

    assert (await client.get("/api/products", headers=reader)).status_code == 200
    denied = await client.post("/api/signup", headers=reader, json={})
    assert denied.status_code == 403
    assert denied.json()["detail"] == "key 'catalogue' lacks portfolio:write or signup:write"
    assert (await client.get("/api/products", headers=other)).status_code == 403
    assert (await client.get("/api/products")).status_code == 401


async def test_a_sales_channel_key_holds_only_its_prefixes(gateway: Rig) -> None:
    client, conn = gateway
    shop = {"X-API-Key": await create_api_key(conn, "web", ["signup:write", "products:read"])}
    assert (await client.get("/api/products", headers=shop)).status_code == 200
    assert (await client.post("/api/signup", headers=shop, json={})).status_code == 201
    assert (await client.get("/api/signup/SGN-1/status", headers=shop)).status_code == 200
    for path in ("/api/portfolio/metering-points", "/api/signups", "/api/customers"):
        refused = await client.get(path, headers=shop)
        assert refused.status_code == 403, path
    assert (await client.post("/api/products", headers=shop, json={})).status_code == 403


async def test_unknown_first_segments_and_dot_segments_are_refused(gateway: Rig) -> None:
    client, conn = gateway
    key = {"X-API-Key": await create_api_key(conn, "admin", ["admin"])}
    for unknown in ("/api/nothing", "/api/nothing/here", "/api/nothing?x=1"):
        answer = await client.get(unknown, headers=key)
        assert answer.status_code == 404, unknown
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith("/unknown-api")
    for sneaky in ("/api/products/%2E%2E/%2E%2E/metrics", "/api/signup/..%2F..%2Fmetrics"):
        escaped = await client.get(sneaky, headers=key)
        assert escaped.status_code in (400, 404), sneaky
        assert escaped.headers["content-type"].startswith("application/problem+json")


async def test_merged_docs_hold_the_aliased_paths(gateway: Rig) -> None:
    client, _ = gateway
    doc = (await client.get("/docs/openapi.json")).json()
    assert {
        "/api/products",
        "/api/signup",
        "/api/signup/{signup_id}/status",
        "/api/portfolio/metering-points",
    } <= set(doc["paths"])
    assert "/api/elsewhere" not in doc["paths"]  # the gateway would answer 404
    assert doc["x-unavailable"] == ["settlement"]


async def test_alias_table_rules() -> None:
    async with httpx.AsyncClient() as client:
        gateway = Gateway({"settlement": "http://x"}, client, aliases={"products": "portfolio"})
        assert gateway.owner("settlement") == "settlement"
        assert gateway.owner("products") is None  # its owner is not routed here
        assert gateway.owner("nothing") is None
        with pytest.raises(ValueError, match="service names"):
            Gateway({"portfolio": "http://x"}, client, aliases={"portfolio": "settlement"})
    assert GatewaySettings().aliases["signups"] == "portfolio"


async def test_a_body_above_litestars_default_reaches_the_service(gateway: Rig) -> None:
    """A 12 MB portfolio import passes the gateway (Litestar's default cap is 10 MB); the
    service's own limit (50 MB) is what answers 413."""
    client, conn = gateway
    key = {"X-API-Key": await create_api_key(conn, "cis", ["portfolio:write"])}
    body = b"x" * 12_000_000
    sent = await client.post("/api/portfolio/imports", content=body, headers=key, timeout=60)
    assert sent.status_code == 201, sent.text[:300]
    assert sent.json() == {"bytes": 12_000_000}
