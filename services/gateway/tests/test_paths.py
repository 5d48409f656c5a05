"""The gateway forwards the path and query exactly as received, and refuses what no service
should see: control characters and dot segments, however they are encoded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar, Request, route
from litestar.enums import HttpMethod
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.domain.paths import InvalidPath, upstream_target
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.testing import serve_app


@route(
    ["/api/{rest:path}"],
    http_method=[HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE],
    status_code=200,
    include_in_schema=False,
)
async def echo(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the portfolio would see: the raw target, and the path its router matches (and
    the raw Idempotency-Key, when one came)."""
    seen = {
        "raw_path": request.scope["raw_path"].decode("latin-1"),
        "path": request.scope["path"],
        "query": request.scope["query_string"].decode("latin-1"),
    }
    raw_key = dict(request.scope["headers"]).get(b"idempotency-key")
    if raw_key is not None:
        seen["idempotency_key"] = raw_key.hex()
    return seen


Rig = tuple[httpx.AsyncClient, dict[str, str], str]


@pytest.fixture
async def rig(postgres_dsn: str) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        key = {"X-API-Key": await create_api_key(conn, "admin", ["admin"])}
        async with serve_app(Litestar([echo])) as portfolio:
            service = build(
                GatewaySettings(
                    database_url=postgres_dsn,
                    services={"portfolio": portfolio},
                )
            )
            async with serve_app(service.app()) as base, httpx.AsyncClient(base_url=base) as client:
                yield client, key, base
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def _raw_get(
    base: str, target: str, key: dict[str, str], extra: bytes = b""
) -> tuple[int, str, bytes]:
    """GET *target* byte for byte (httpx would re-encode it), with the *extra* raw header
    lines: status, content type, body."""
    url = urlsplit(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    headers = "".join(f"{k}: {v}\r\n" for k, v in key.items())
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: gw\r\n{headers}".encode("latin-1")
        + extra
        + b"Connection: close\r\n\r\n"
    )
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    content_type = next(
        (
            line.split(":", 1)[1].strip()
            for line in lines
            if line.lower().startswith("content-type")
        ),
        "",
    )
    return int(lines[0].split()[1]), content_type, body


async def test_the_path_reaches_the_service_as_sent(rig: Rig) -> None:
    client, key, _ = rig
    # %3F is part of the path, not the start of a query: the service sees /api/signups/?/events,
    # never the signup list at /api/signups.
    answer = await client.get("/api/signups/%3F/events", headers=key)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "raw_path": "/api/signups/%3F/events",
        "path": "/api/signups/?/events",
        "query": "",
    }
    hashed = await client.get("/api/signups/a%23b/events?x=%3F%26y&z=1+2", headers=key)
    assert hashed.json() == {
        "raw_path": "/api/signups/a%23b/events",
        "path": "/api/signups/a#b/events",
        "query": "x=%3F%26y&z=1+2",
    }
    slash = await client.get("/api/customers/a%2Fb", headers=key)
    assert slash.json()["raw_path"] == "/api/customers/a%2Fb"
    # An alias keeps routing to its owner at the same path; a service's own name too.
    listed = await client.get("/api/products?active=true", headers=key)
    assert listed.json() == {
        "raw_path": "/api/products",
        "path": "/api/products",
        "query": "active=true",
    }
    own = await client.post("/api/portfolio/imports", headers=key, content=b"x")
    assert own.json()["raw_path"] == "/api/portfolio/imports"


@pytest.mark.parametrize("value", ["ordre-æøå".encode(), b"caf\xe9", b"\xff\xfe"])
async def test_a_header_beyond_ascii_is_forwarded_as_its_bytes(rig: Rig, value: bytes) -> None:
    # Header values are bytes; Litestar reads them as Latin-1 and httpx encodes a str header
    # as ASCII, so UTF-8 in an Idempotency-Key was a UnicodeEncodeError (500) at the gateway.
    _, key, base = rig
    status, _, body = await _raw_get(
        base, "/api/signups", key, b"Idempotency-Key: " + value + b"\r\n"
    )
    assert status == 200, body
    assert json.loads(body)["idempotency_key"] == value.hex()


@pytest.mark.parametrize(
    "target",
    [
        "/api/customers/%01",
        "/api/customers/%00",
        "/api/customers/a%1fb",
        "/api/customers/%7F",
        "/api/customers/%7f/x",
        "/api/processes?gsrn=%00",
        "/api/processes?status=%0A",
        "/api/signups?search=a%7Fb",
    ],
)
async def test_control_characters_are_a_400_problem(rig: Rig, target: str) -> None:
    _, key, base = rig
    status, content_type, body = await _raw_get(base, target, key)
    assert status == 400, (target, body)
    assert content_type.startswith("application/problem+json")
    assert b"raw_path" not in body  # never forwarded
    # The platform's own NUL check may answer first (invalid-character); the gateway's
    # covers every other control character.
    assert b"/invalid-path" in body or b"/invalid-character" in body


@pytest.mark.parametrize(
    "target",
    [
        "/api/signups/../metrics",
        "/api/signups/%2e%2e/%2E%2e/metrics",
        "/api/signups/.%2E/x",
        "/api/signups/%2e/x",
        "/api/signups/x%2F..%2F..%2Fmetrics",
        "/api/signups/x%5C..%5Cmetrics",
        "/api/products/%2E%2E",
    ],
)
async def test_dot_segments_are_refused_however_encoded(rig: Rig, target: str) -> None:
    _, key, base = rig
    status, content_type, body = await _raw_get(base, target, key)
    assert status in (400, 404), (target, body)
    assert content_type.startswith("application/problem+json")


@pytest.mark.parametrize(
    "target", ["/api/signups?search=a\x01b", "/api/signups?q=\tb", "/api/customers/a\x7fb"]
)
async def test_raw_control_characters_never_reach_a_service(rig: Rig, target: str) -> None:
    _, key, base = rig
    status, content_type, body = await _raw_get(base, target, key)
    # The HTTP parser refuses some request lines itself (400 text/plain); those it passes on,
    # the gateway refuses. Either way the service never sees them.
    assert status == 400, body
    assert b"raw_path" not in body
    if b"invalid-path" not in body:
        assert content_type.startswith("text/plain"), (content_type, body)


def test_upstream_target_rules() -> None:
    assert upstream_target(b"/api/signups/%3F/events", b"") == "/api/signups/%3F/events"
    assert upstream_target(b"/api/x", b"a=%3F") == "/api/x?a=%3F"
    # UTF-8 a client did not encode is encoded, with the same meaning.
    assert upstream_target("/api/x/æ".encode(), b"") == "/api/x/%C3%A6"
    assert upstream_target(b"/api/x/%2e%2ex", b"") == "/api/x/%2e%2ex"  # not a dot segment
    assert upstream_target(b"/api/x/%252e%252e", b"") == "/api/x/%252e%252e"  # decoded once
    for raw, query in (
        (b"/api/x/%01", b""),
        (b"/api/x", b"q=%1F"),
        (b"/api/x/\x7f", b""),
        (b"/api/x/%2E%2e", b""),
        (b"/api/x/a%2F.%2Fb", b""),
    ):
        with pytest.raises(InvalidPath):
            upstream_target(raw, query)
