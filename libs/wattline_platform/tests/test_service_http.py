"""A service's HTTP edge: health, readiness, metrics, correlation ids and problem+json."""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar import get
from litestar.params import FromPath, FromQuery
from litestar.testing import AsyncTestClient
from wattline_platform.config import PlatformSettings, ServiceSettings
from wattline_platform.logging import correlation_id_var
from wattline_platform.problem import Problem
from wattline_platform.service import Service, ServiceSpec
from wattline_platform.testing import SchemaFactory, identity_auth


@get("/api/demo/things/{n:int}")
async def thing(n: FromPath[int], limit: FromQuery[int] = 10) -> dict[str, object]:
    if n > 9:
        raise Problem(404, "thing-not-found", "No such thing", f"thing {n}")
    return {"n": n, "correlation_id": correlation_id_var.get()}


async def test_health_metrics_correlation_and_problems(
    make_schema_db: SchemaFactory, postgres_dsn: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    db = await make_schema_db()
    service = Service(
        ServiceSpec("demo", migrations_dir=tmp_path, schema=db.schema),
        ServiceSettings(database_url=postgres_dsn),
        PlatformSettings(database_url=postgres_dsn, kafka_bootstrap=kafka_bootstrap),
        route_handlers=[thing],
    )
    async with AsyncTestClient(app=service.app()) as client:
        client.auth = identity_auth()  # as the gateway forwards it
        assert (await client.get("/health/live")).json() == {"service": "demo", "status": "alive"}

        ok = await client.get("/api/demo/things/3", headers={"X-Correlation-ID": "abc-123"})
        assert ok.json() == {"n": 3, "correlation_id": "abc-123"}
        assert ok.headers["x-correlation-id"] == "abc-123"
        generated = await client.get("/api/demo/things/4")
        assert len(generated.headers["x-correlation-id"]) == 32

        missing = await client.get("/api/demo/things/12")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json() == {
            "type": "https://wattline.dev/problems/thing-not-found",
            "title": "No such thing",
            "status": 404,
            "detail": "thing 12",
            "instance": "/api/demo/things/12",
        }
        invalid = await client.get("/api/demo/things/1?limit=many")
        assert invalid.status_code == 400
        assert invalid.json()["type"].endswith("/validation-error")

        for _ in range(100):
            ready = await client.get("/health/ready")
            if ready.status_code == 200:
                break
            await asyncio.sleep(0.1)
        body = ready.json()
        assert body["status"] == "ready", body
        assert set(body["checks"]) == {"database", "migrations", "broker"}

        metrics = (await client.get("/metrics")).text
        route = 'route="/api/demo/things/{n}"'
        assert f'wattline_http_requests_total{{method="GET",{route},status="404"}} 1.0' in metrics
        assert (
            "wattline_outbox_lag_seconds" in metrics or "wattline_events_published_total" in metrics
        )
