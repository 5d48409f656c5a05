"""The last resort: whatever raises — a handler, a dependency, a middleware — the caller gets a
problem+json 500 with the correlation id to quote, and the stack is in the log under that id."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from wattline_platform.config import ServiceSettings
from wattline_platform.logging import configure_logging
from wattline_platform.problem import Problem
from wattline_platform.service import Service, ServiceSpec
from wattline_platform.testing import serve_app


def _exploding_dependency() -> int:
    raise RuntimeError("secret detail from a dependency")


def _exploding_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].endswith("/boom"):
            raise RuntimeError("secret detail from a middleware")
        if scope["path"].endswith("/refused"):
            raise Problem(403, "refused", "Refused by a middleware")
        await app(scope, receive, send)

    return middleware


@get("/demo/dependency", dependencies={"n": Provide(_exploding_dependency, sync_to_thread=False)})
async def with_dependency(n: NamedDependency[int]) -> int:
    return n


@get("/demo/handler")
async def failing_handler() -> int:
    raise RuntimeError("secret detail from a handler")


@get("/demo/middleware/{what:str}", middleware=[_exploding_middleware])
async def behind_middleware(what: FromPath[str]) -> str:
    return what


def demo() -> Service:
    return Service(
        ServiceSpec("demo", None, messaging=False),
        ServiceSettings(),
        route_handlers=[with_dependency, failing_handler, behind_middleware],
    )


@pytest.mark.parametrize(
    ("path", "raised_in"),
    [
        ("/demo/handler", "a handler"),
        ("/demo/dependency", "a dependency"),
        ("/demo/middleware/boom", "a middleware"),
    ],
)
async def test_an_unhandled_error_is_a_problem_500_with_its_correlation_id_and_a_logged_stack(
    path: str, raised_in: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("demo")
    capsys.readouterr()
    async with AsyncTestClient(app=demo().app()) as client:
        answer = await client.get(path, headers={"X-Correlation-ID": "cid-42"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-correlation-id"] == "cid-42"
    assert answer.json() == {
        "type": "https://wattline.dev/problems/internal-error",
        "title": "Internal server error",
        "status": 500,
        "instance": path,
        "correlation_id": "cid-42",
    }
    assert "secret" not in answer.text
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    logged: list[dict[str, Any]] = [x for x in lines if x.get("event") == "unhandled_error"]
    assert len(logged) == 1, lines
    assert logged[0]["correlation_id"] == "cid-42"
    assert logged[0]["path"] == path
    assert "Traceback" in logged[0]["exception"]
    assert f"secret detail from {raised_in}" in logged[0]["exception"]


async def test_a_problem_raised_in_a_middleware_keeps_its_status_and_correlation_id() -> None:
    async with AsyncTestClient(app=demo().app()) as client:
        answer = await client.get("/demo/middleware/refused", headers={"X-Correlation-ID": "c-7"})
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["x-correlation-id"] == "c-7"
        assert answer.json()["type"] == "https://wattline.dev/problems/refused"
        assert (await client.get("/demo/middleware/fine")).text == "fine"
        metrics = (await client.get("/metrics")).text
    route = 'route="/demo/middleware/{what}"'
    assert f'wattline_http_requests_total{{method="GET",{route},status="403"}} 1.0' in metrics


@pytest.mark.parametrize("sent", [b"\xff\xfe", "ordre-æ".encode(), b"tab\there", b"x" * 200])
async def test_a_correlation_id_is_taken_only_as_printable_ascii(sent: bytes) -> None:
    # It goes back in a header, into every log line and on in other requests' headers (which
    # httpx encodes as ASCII): anything else gets an id of our own, never an error.
    async with serve_app(demo().app()) as base:
        url = urlsplit(base)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(
            b"GET /demo/middleware/fine HTTP/1.1\r\nHost: demo\r\nX-Correlation-ID: "
            + sent
            + b"\r\nConnection: close\r\n\r\n"
        )
        answer = await reader.read()
        writer.close()
    head = answer.partition(b"\r\n\r\n")[0]
    lines = head.split(b"\r\n")
    assert lines[0].split()[1] == b"200", answer
    cid = next(v for k, _, v in (x.partition(b": ") for x in lines) if k == b"x-correlation-id")
    assert cid.isascii() and cid.decode().isprintable() and 1 <= len(cid) <= 128, cid
    if sent == b"x" * 200:
        assert cid == b"x" * 128  # a long one is cut, as before
