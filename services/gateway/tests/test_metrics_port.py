"""The public gateway port serves only /health/*, /docs, the OpenAPI document and /api/*; its
/metrics is on a port of its own, for Prometheus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.testing import free_port, serve_app


@pytest.fixture
async def conn(postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        yield conn
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def test_metrics_are_on_their_own_port_only(
    postgres_dsn: str, conn: asyncpg.Connection
) -> None:
    metrics_port = free_port()
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=postgres_dsn,
        services={"settlement": dead},
        host="127.0.0.1",
        metrics_port=metrics_port,
    )
    key = {"X-API-Key": await create_api_key(conn, "ops", ["admin"])}
    async with (
        serve_app(build(settings).app()) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        assert (await client.get("/api/settlement/runs", headers=key)).status_code == 503
        for public in ("/metrics", "/metrics/", "/schema", "/schema/swagger", "/api/metrics"):
            refused = await client.get(public)
            assert refused.status_code in (401, 404), public
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert "wattline_http_requests_total" not in refused.text
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/docs")).status_code == 200

        scraped = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        # The gateway's own requests are counted there, by route template.
        assert 'route="/api/{target}/{path}",status="503"' in scraped.text
        assert "wattline_http_requests_total" in scraped.text

    async with httpx.AsyncClient() as after:
        with pytest.raises(httpx.ConnectError):  # stopped with the gateway
            await after.get(f"http://127.0.0.1:{metrics_port}/metrics")
