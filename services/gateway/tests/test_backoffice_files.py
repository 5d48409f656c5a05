"""The gateway serves the back office's build at /backoffice/: its files with their types
and cache rules, index.html for the app's own pages (deep links), nothing outside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_platform import migrations
from wattline_platform.testing import serve_app

INDEX = b'<!doctype html><html lang="da"><script type="module" src="/backoffice/assets/index-3f9a.js"></script></html>'  # noqa: E501
SCRIPT = b"console.log('GSRN 571313180400000028')"


@pytest.fixture
async def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "index-3f9a.js").write_bytes(SCRIPT)
    (dist / "assets" / "index-3f9a.css").write_text("body{margin:0}")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    (dist / "assets" / "escape.js").symlink_to(tmp_path / "secret.txt")
    return dist


async def _gateway(
    postgres_dsn: str, backoffice_dir: Path | None
) -> AsyncIterator[httpx.AsyncClient]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        service = build(
            GatewaySettings(
                database_url=postgres_dsn,
                services={"settlement": "http://127.0.0.1:9"},
                backoffice_dir=backoffice_dir,
            )
        )
        async with serve_app(service.app()) as base, httpx.AsyncClient(base_url=base) as client:
            yield client
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


@pytest.fixture
async def client(postgres_dsn: str, built: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _gateway(postgres_dsn, built):
        yield c


async def test_files_pages_and_headers(client: httpx.AsyncClient) -> None:
    root = await client.get("/backoffice")
    assert root.status_code in (301, 302, 307, 308)
    assert root.headers["location"] == "/backoffice/"

    for page in ("/backoffice/", "/backoffice/signups/3f1e/", "/backoffice/customers/42"):
        answer = await client.get(page)
        assert answer.status_code == 200, page
        assert answer.content == INDEX, page
        assert answer.headers["content-type"] == "text/html; charset=utf-8", page
        assert answer.headers["cache-control"] == "no-cache", page
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "connect-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"

    script = await client.get("/backoffice/assets/index-3f9a.js")
    assert script.status_code == 200 and script.content == SCRIPT
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    css = await client.get("/backoffice/assets/index-3f9a.css")
    assert css.headers["content-type"].startswith("text/css") and css.text == "body{margin:0}"
    icon = await client.get("/backoffice/favicon.svg")
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.headers["cache-control"] == "no-cache"  # not hashed: may change in place


async def test_nothing_outside_the_build_and_missing_files_are_problems(
    client: httpx.AsyncClient,
) -> None:
    for path in (
        "/backoffice/assets/missing-1234.js",
        "/backoffice/assets/escape.js",
        "/backoffice/..%2Fsecret.txt",
        "/backoffice/assets/..%2F..%2Fsecret.txt",
        "/backoffice/%2e%2e/secret.txt",
        "/backoffice/" + "a" * 300 + ".js",  # too long a name for the file system
    ):
        answer = await client.get(path)
        assert answer.status_code in (400, 404), path
        assert answer.headers["content-type"].startswith("application/problem+json"), path
        assert b"outside the build" not in answer.content, path
    schema = (await client.get("/schema/openapi.json")).json()
    assert not [p for p in schema["paths"] if p.startswith("/backoffice")]


async def test_an_unbuilt_back_office_says_how_to_build_it(
    postgres_dsn: str, tmp_path: Path
) -> None:
    async for client in _gateway(postgres_dsn, tmp_path / "nowhere"):
        answer = await client.get("/backoffice/signups")
        assert answer.status_code == 404
        problem = answer.json()
        assert problem["type"].endswith("backoffice-not-built")
        assert "make backoffice" in problem["detail"]
