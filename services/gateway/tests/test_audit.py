"""The audit trail, over real HTTP through the gateway: every state-changing call is on record
(who, when, what, the target, the correlation id) before it is forwarded and with its outcome
after, and back office reads it at GET /api/audit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, Request, Response, route
from litestar.enums import HttpMethod
from wattline_gateway.api import Gateway
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.testing import free_port, serve_app


@dataclass
class Backend:
    """A stand-in portfolio: answers 200, 409 for paths with 'taken', and holds paths with
    'slow' until released."""

    received: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Litestar:
        @route(
            ["/api/{rest:path}"],
            http_method=[HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE],
            status_code=200,
        )
        async def anything(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
            self.received.append(f"{request.method} {request.scope['raw_path'].decode()}")
            if "slow" in request.url.path:
                await self.release.wait()
            status = 409 if "taken" in request.url.path else 200
            return Response({"ok": "yes"}, status_code=status)

        return Litestar([anything])


@dataclass
class Rig:
    client: httpx.AsyncClient
    conn: asyncpg.Connection
    backend: Backend
    admin: dict[str, str]
    auditor: dict[str, str]


@pytest.fixture
async def rig(postgres_dsn: str) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    backend = Backend()
    dead = f"http://127.0.0.1:{free_port()}"
    try:
        admin = {"X-API-Key": await create_api_key(conn, "back-office", ["admin"])}
        auditor = {"X-API-Key": await create_api_key(conn, "auditor", ["audit:read"])}
        async with serve_app(backend.app()) as portfolio:
            service = build(
                GatewaySettings(
                    database_url=postgres_dsn,
                    services={"portfolio": portfolio, "settlement": dead},
                )
            )
            async with serve_app(service.app()) as base, httpx.AsyncClient(base_url=base) as client:
                yield Rig(client, conn, backend, admin, auditor)
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def test_a_state_changing_call_is_recorded_with_its_outcome(rig: Rig) -> None:
    client, conn = rig.client, rig.conn
    before = datetime.now(UTC)
    answer = await client.post(
        "/api/signups/SGN-2026-00042/cancel?reason=moved%20to%20Aarhus",
        headers={**rig.admin, "X-Correlation-ID": "corr-4711"},
        json={"note": "Jens Hansen, 0101701234"},
    )
    assert answer.status_code == 200
    rows = await conn.fetch("SELECT * FROM audit_log")
    assert len(rows) == 1
    row = dict(rows[0])
    key_id = await conn.fetchval("SELECT id FROM api_keys WHERE name = 'back-office'")
    assert before <= row.pop("at") <= datetime.now(UTC)
    assert row.pop("id") >= 1
    assert row == {
        "key_id": key_id,
        "key_name": "back-office",
        "method": "POST",
        "path": "/api/signups/SGN-2026-00042/cancel",  # no query string
        "target": "SGN-2026-00042/cancel",
        "correlation_id": "corr-4711",
        "status": 200,
    }
    # Nothing of the query or the body is kept.
    text = " ".join(str(v) for v in rows[0].values())
    assert "Aarhus" not in text and "Jens" not in text and "0101701234" not in text

    # Reads are not recorded; refusals by the service are, with their status.
    assert (await client.get("/api/signups/SGN-2026-00042", headers=rig.admin)).status_code == 200
    taken = await client.put("/api/products/taken", headers=rig.admin, json={})
    assert taken.status_code == 409
    down = await client.delete("/api/settlement/runs/7", headers=rig.admin)
    assert down.status_code == 503
    trail = await conn.fetch("SELECT method, path, target, status FROM audit_log ORDER BY id")
    assert [tuple(r) for r in trail] == [
        ("POST", "/api/signups/SGN-2026-00042/cancel", "SGN-2026-00042/cancel", 200),
        ("PUT", "/api/products/taken", "taken", 409),
        ("DELETE", "/api/settlement/runs/7", "runs/7", 503),
    ]
    # A call the gateway refuses before forwarding is not a call made.
    assert (await client.post("/api/signups/x", headers={"X-API-Key": "nope"})).status_code == 401
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == 3


async def test_the_call_is_on_record_before_it_is_forwarded(rig: Rig) -> None:
    client, conn = rig.client, rig.conn
    call = asyncio.create_task(client.post("/api/signup/slow", headers=rig.admin, json={}))
    for _ in range(200):
        if rig.backend.received:
            break
        await asyncio.sleep(0.01)
    assert rig.backend.received == ["POST /api/signup/slow"]
    # The service has it and has not answered: the trail has it, outcome unknown.
    in_flight = await conn.fetchrow("SELECT path, status FROM audit_log")
    assert in_flight is not None and tuple(in_flight) == ("/api/signup/slow", None)
    rig.backend.release.set()
    assert (await call).status_code == 200
    assert await conn.fetchval("SELECT status FROM audit_log") == 200


async def test_no_trail_no_call(rig: Rig) -> None:
    client, conn = rig.client, rig.conn
    assert (await client.get("/api/products", headers=rig.admin)).status_code == 200  # key cached
    await conn.execute("ALTER TABLE audit_log RENAME TO audit_log_away")
    try:
        refused = await client.post("/api/signups/SGN-1/cancel", headers=rig.admin, json={})
    finally:
        await conn.execute("ALTER TABLE audit_log_away RENAME TO audit_log")
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/audit-unavailable")
    assert rig.backend.received == ["GET /api/products"]  # never forwarded


async def _trail(rig: Rig, **params: Any) -> httpx.Response:
    return await rig.client.get("/api/audit", params=params, headers=rig.auditor)


async def test_back_office_reads_the_trail_by_target_key_and_time(rig: Rig) -> None:
    client, conn = rig.client, rig.conn
    shop = {"X-API-Key": await create_api_key(conn, "web-shop", ["signup:write"])}
    for path, key in (
        ("/api/signups/SGN-1/cancel", rig.admin),
        ("/api/signups/SGN-10/cancel", rig.admin),  # not under SGN-1
        ("/api/signup", shop),
        ("/api/signups/SGN-1", rig.admin),
        ("/api/signup/SGN-1/resubmit", shop),
    ):
        assert (await client.post(path, headers=key, json={})).status_code in (200, 403), path

    everything = await _trail(rig)
    assert everything.status_code == 200, everything.text
    page = everything.json()
    assert [e["path"] for e in page["items"]] == [
        "/api/signup/SGN-1/resubmit",
        "/api/signups/SGN-1",
        "/api/signup",
        "/api/signups/SGN-10/cancel",
        "/api/signups/SGN-1/cancel",
    ]  # newest first
    assert page["next_after"] is None
    newest = page["items"][0]
    assert newest["key_name"] == "web-shop" and newest["method"] == "POST"
    assert newest["status"] == 200 and newest["correlation_id"]
    assert page["items"][2]["target"] is None  # the collection itself

    by_target = (await _trail(rig, target="SGN-1")).json()["items"]
    assert [e["path"] for e in by_target] == [
        "/api/signup/SGN-1/resubmit",
        "/api/signups/SGN-1",
        "/api/signups/SGN-1/cancel",
    ]
    by_name = (await _trail(rig, key="web-shop")).json()["items"]
    assert [e["path"] for e in by_name] == ["/api/signup/SGN-1/resubmit", "/api/signup"]
    by_id = (await _trail(rig, key=newest["key_id"])).json()["items"]
    assert by_id == by_name

    at = datetime.fromisoformat(page["items"][2]["at"])
    since = (await _trail(rig, **{"from": at.isoformat()})).json()["items"]
    assert [e["path"] for e in since][-1] == "/api/signup"
    until = (await _trail(rig, to=at.isoformat())).json()["items"]
    assert [e["path"] for e in until] == ["/api/signups/SGN-10/cancel", "/api/signups/SGN-1/cancel"]
    later = (await _trail(rig, **{"from": (at + timedelta(days=1)).isoformat()})).json()
    assert later == {"items": [], "next_after": None}

    first = (await _trail(rig, limit=2)).json()
    assert len(first["items"]) == 2 and first["next_after"] == first["items"][-1]["id"]
    second = (await _trail(rig, limit=2, after=first["next_after"])).json()
    third = (await _trail(rig, limit=2, after=second["next_after"])).json()
    paged = [e["path"] for p in (first, second, third) for e in p["items"]]
    assert paged == [e["path"] for e in page["items"]]
    assert third["next_after"] is None


async def test_a_call_is_found_by_its_target_however_its_path_is_spelled(rig: Rig) -> None:
    # The router reads //api/x, /api//x and /api/x alike, and forwards all three; the trail
    # names the target the router read, so no spelling hides a call from ?target=.
    for n, target in enumerate(
        (
            b"//api/signups/SGN-7/cancel",
            b"/api//signups/SGN-7/cancel",
            b"/api/signups//SGN-7//cancel",
            b"/api/signups/SGN-7%2Fcancel",
        )
    ):
        answer = await rig.client.post(
            "/api/signups", headers=rig.admin, json={}, extensions={"target": target}
        )
        assert answer.status_code == 200, (target, answer.text)
        assert rig.backend.received[n].endswith(target.decode()), rig.backend.received
    found = (await _trail(rig, target="SGN-7")).json()["items"]
    assert [e["target"] for e in found] == ["SGN-7/cancel"] * 4
    assert [e["path"] for e in reversed(found)] == [  # as received
        "//api/signups/SGN-7/cancel",
        "/api//signups/SGN-7/cancel",
        "/api/signups//SGN-7//cancel",
        "/api/signups/SGN-7%2Fcancel",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
        {"after": 0},
        {"after": 2**63},
        {"after": "x"},
        {"from": "yesterday"},
        {"from": "0001-01-01T00:00:00+01:00"},
        {"to": "9999-12-31T23:59:00-05:00"},
        {"to": "1999-12-31T23:59:59Z"},
        {"target": "x" * 201},
    ],
)
async def test_bad_queries_are_400_problems(rig: Rig, params: dict[str, Any]) -> None:
    answer = await _trail(rig, **params)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_only_audit_readers_and_admins_read_it(rig: Rig) -> None:
    client, conn = rig.client, rig.conn
    writer = {"X-API-Key": await create_api_key(conn, "cis", ["portfolio:write"])}
    assert (await client.get("/api/audit")).status_code == 401
    refused = await client.get("/api/audit", headers=writer)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "key 'cis' lacks audit:read"
    assert (await client.get("/api/audit", headers=rig.admin)).status_code == 200
    assert (await client.get("/api/audit", headers=rig.auditor)).status_code == 200
    # A sales channel's key sees no other channel's calls, whatever its scopes.
    channel = await create_api_key(conn, "web", ["audit:read", "admin"], channel="web")
    bound = await client.get("/api/audit", headers={"X-API-Key": channel})
    assert bound.status_code == 403
    assert "bound to a channel" in bound.json()["detail"]
    # The trail's readers write nothing through it; it is not a service to forward to.
    assert (await client.post("/api/audit", headers=rig.admin, json={})).status_code == 405


async def test_the_trail_is_in_the_public_openapi_document(rig: Rig) -> None:
    doc = (await rig.client.get("/schema/openapi.json")).json()
    operation = doc["paths"]["/api/audit"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "target",
        "key",
        "from",
        "to",
        "after",
        "limit",
    }
    schemas = doc["components"]["schemas"]
    assert {"AuditPage", "AuditEntry"} <= set(schemas)
    assert set(schemas["AuditEntry"]["properties"]) == {
        "id",
        "at",
        "key_id",
        "key_name",
        "method",
        "path",
        "target",
        "correlation_id",
        "status",
    }


async def test_audit_is_no_service_or_alias_name() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match="audit trail"):
            Gateway({"audit": "http://x"}, client)
        with pytest.raises(ValueError, match="audit trail"):
            Gateway({"portfolio": "http://x"}, client, aliases={"audit": "portfolio"})
