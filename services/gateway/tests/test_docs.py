"""/docs works offline: every file it references is served by the gateway, and the document
it shows (/schema/openapi.json) holds the paths of the services behind the gateway."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, get
from typer.testing import CliRunner
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.domain import openapi
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.testing import free_port, serve_app

from wattline import cli
from wattline.openapi import (
    BUILDERS,
    render,
    routed_services,
    service_document,
    service_documents,
)

SCHEMAS = "#/components/schemas/"
EXTERNAL_URL = re.compile(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", re.IGNORECASE)


@dataclass
class Rig:
    client: httpx.AsyncClient
    conn: asyncpg.Connection
    backends: dict[str, str]


def _backend(doc: dict[str, Any]) -> Litestar:
    @get("/schema/openapi.json")
    async def schema() -> dict[str, Any]:
        return doc

    return Litestar([schema], openapi_config=None)


def _stub_openapi(name: str, path: str) -> dict[str, Any]:
    """A service's document, as small as the merge needs: one operation and its schema."""
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Wattline {name}", "version": "0.1.0"},
        "paths": {
            path: {
                "get": {
                    "operationId": f"{name}List",
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{name}Page"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {"schemas": {f"{name}Page": {"type": "object"}}},
    }


@asynccontextmanager
async def _gateway(
    postgres_dsn: str, docs: dict[str, dict[str, Any]], down: tuple[str, ...] = ()
) -> AsyncIterator[Rig]:
    """A gateway in front of one backend per service, each serving its OpenAPI *docs* entry,
    and of services *down* that nothing answers for."""
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        async with AsyncExitStack() as stack:
            backends = {
                name: await stack.enter_async_context(serve_app(_backend(doc)))
                for name, doc in docs.items()
            }
            backends.update({name: f"http://127.0.0.1:{free_port()}" for name in down})
            service = build(GatewaySettings(database_url=postgres_dsn, services=backends))
            # Over real HTTP in this loop, like the backends: litestar's AsyncTestClient would
            # block the loop while the gateway waits for a backend served in it.
            base = await stack.enter_async_context(serve_app(service.app()))
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=base))
            yield Rig(client, conn, backends)
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


@pytest.fixture
async def rig(postgres_dsn: str) -> AsyncIterator[Rig]:
    """A gateway in front of small stand-ins for the portfolio and settlement."""
    docs = {
        "portfolio": _stub_openapi("portfolio", "/api/products"),
        "settlement": _stub_openapi("settlement", "/api/settlement/runs"),
    }
    async with _gateway(postgres_dsn, docs) as rig:
        yield rig


class _References(HTMLParser):
    """Every URL an HTML page makes the browser fetch (or shows as a link)."""

    URL_ATTRIBUTES = ("src", "href", "data-spec-url", "spec-url", "action", "content")

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES and value and (name != "content" or "/" in value):
                self.urls.append((tag, name, value))


def _expected(url: str) -> tuple[str, int]:
    """The content type a referenced URL must answer with, and its least plausible size."""
    if url.endswith(".js"):
        return "text/javascript", 200
    if url.endswith(".css"):
        return "text/css", 10_000
    if url.endswith(".png"):
        return "image/png", 100
    if url.endswith(".json"):
        return "application/json", 500
    raise AssertionError(f"unexpected kind of URL on /docs: {url}")


async def test_docs_page_serves_every_file_it_references_itself(rig: Rig) -> None:
    client = rig.client
    page = await client.get("/docs")  # no API key: the docs are public
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"  # once, not twice
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert not EXTERNAL_URL.search(html), "the page names another host"

    parser = _References()
    parser.feed(html)
    urls = {url for _, _, url in parser.urls}
    scripts = [url for tag, attr, url in parser.urls if tag == "script" and attr == "src"]
    stylesheets = [url for tag, attr, url in parser.urls if tag == "link" and url.endswith(".css")]
    spec_urls = [url for _, attr, url in parser.urls if attr == "data-spec-url"]
    assert len(scripts) == 2 and len(stylesheets) == 1 and spec_urls == ["/schema/openapi.json"]

    bodies: dict[str, bytes] = {}
    for url in sorted(urls):
        assert url.startswith("/"), url  # same origin, absolute path
        answer = await client.get(url)  # no API key
        assert answer.status_code == 200, url
        media_type, least = _expected(url)
        assert answer.headers["content-type"].startswith(media_type), url
        assert answer.headers["content-type"].count("charset") <= 1, url
        assert len(answer.content) >= least, url
        bodies[url] = answer.content

    bundle, initializer = (bodies[url] for url in scripts)
    assert len(bundle) > 1_000_000 and b"SwaggerUIBundle" in bundle  # the real Swagger UI
    # The start-up script names the document the page shows and no other host (no validator).
    assert b"SwaggerUIBundle(" in initializer and b"validatorUrl: null" in initializer
    assert not EXTERNAL_URL.search(initializer.decode())
    css = bodies[stylesheets[0]].decode()
    assert ".swagger-ui" in css
    assert all(
        ref.strip("'\"").startswith("data:") for ref in re.findall(r"url\(([^)]*)\)", css)
    ), "the stylesheet loads a file from elsewhere"
    spec = json.loads(bodies["/schema/openapi.json"])
    # The services' paths, and the gateway's own audit trail.
    assert set(spec["paths"]) == {
        "/api/products",
        "/api/settlement/runs",
        "/api/audit",
        "/api/api-keys",
        "/api/api-keys/{name}",
        "/api/portal-tokens",
        "/api/portal-tokens/{token_id}",
        "/api/session",
    }
    assert bodies["/schema/openapi.json"] == (await client.get("/docs/openapi.json")).content
    for url, body in bodies.items():
        if url.endswith(".png"):
            assert body.startswith(b"\x89PNG"), url


async def test_the_documents_paths_are_those_of_the_real_services_behind_it(
    postgres_dsn: str,
) -> None:
    # The real portfolio's, settlement's and invoicing's documents, built in process.
    docs = {name: await service_document(name) for name in ("portfolio", "settlement", "invoicing")}
    async with _gateway(postgres_dsn, docs) as rig:
        client, conn = rig.client, rig.conn
        key = await create_api_key(conn, "website", ["signup:write"])
        answer = await client.get("/schema/openapi.json")  # no API key
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/json")
        doc = answer.json()
        assert doc["openapi"].startswith("3.1") and doc["info"]["title"] == "Wattline API"
        assert doc["x-unavailable"] == []
        paths = doc["paths"]
        assert "post" in paths["/api/signup"]  # the portfolio's, under its public alias
        assert "get" in paths["/api/signup/{signup_id}/status"]
        assert "get" in paths["/api/settlement/runs"]
        assert "get" in paths["/api/settlement/runs/{run_id}/lines"]
        assert all(path.startswith("/api/") for path in paths)  # not the gateway's own routes
        # The customer portal's routes, each service's, documented with their response models.
        portal = {path for path in paths if "/portal/" in path}
        assert portal == {
            "/api/portfolio/portal/metering-points",
            "/api/portfolio/portal/contract",
            "/api/settlement/portal/metering-points/{gsrn}/consumption",
            "/api/settlement/portal/spot-prices",
            "/api/invoicing/portal/invoices",
            "/api/invoicing/portal/invoices/{number}",
            "/api/invoicing/portal/invoices/{number}/pdf",
            "/api/invoicing/portal/payments",
        }
        assert all(set(paths[path]) == {"get"} for path in portal)
        assert {"PortalMeteringPoints", "PortalContracts", "PortalConsumption",
                "PortalSpotPrices", "PortalDocumentPage", "PortalDocumentDetail",
                "PortalPayments"} <= set(doc["components"]["schemas"])  # fmt: skip
        pdf = paths["/api/invoicing/portal/invoices/{number}/pdf"]["get"]["responses"]["200"]
        assert "application/pdf" in pdf["content"]
        # Every schema an operation refers to is in the merged components.
        text = json.dumps(doc)
        refs = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
        assert refs and refs <= set(doc["components"]["schemas"])
        # No secrets and no internal addresses: keys, the database, the services' base URLs.
        assert key not in text and key not in (await client.get("/docs")).text
        assert "postgres" not in text.lower()
        for base in rig.backends.values():
            assert base.removeprefix("http://") not in text


async def test_a_service_that_is_down_is_named_and_the_rest_still_shown(postgres_dsn: str) -> None:
    docs = {"settlement": _stub_openapi("settlement", "/api/settlement/runs")}
    async with _gateway(postgres_dsn, docs, down=("portfolio",)) as rig:
        doc = (await rig.client.get("/schema/openapi.json")).json()
        assert doc["x-unavailable"] == ["portfolio"]
        assert set(doc["paths"]) == {
            "/api/settlement/runs",
            "/api/audit",
            "/api/api-keys",
            "/api/api-keys/{name}",
            "/api/portal-tokens",
            "/api/portal-tokens/{token_id}",
            "/api/session",
        }
        assert {"settlementPage", "AuditPage", "AuditEntry"} <= set(doc["components"]["schemas"])


async def test_only_the_listed_assets_are_served(rig: Rig) -> None:
    client = rig.client
    page = (await client.get("/docs")).text
    bundle = re.search(r'src="([^"]+/)swagger-ui-bundle\.js"', page)
    assert bundle is not None
    folder = bundle.group(1)
    # The bundle's own index.html points at the public petstore: it must not be reachable.
    for name in ("index.html", "swagger-initializer.js", "..%2F..%2Fmetrics", "nothing.js"):
        answer = await client.get(folder + name)
        assert answer.status_code in (400, 404), name
        assert answer.headers["content-type"].startswith("application/problem+json"), name
    stale = await client.get("/docs/assets/0.0.1/swagger-ui-bundle.js")
    assert stale.status_code == 404
    # Litestar's own pages of an empty gateway document are gone, not shadowing the merged one.
    assert (await client.get("/schema/swagger")).status_code == 404


# Operations of the merged document whose 2xx answer has no schema, or one that is an object
# with no properties (a `dict[str, Any]` answer): an integrator cannot generate a client for
# them. The list only shrinks: an operation typed since must leave it, a new one never joins.
UNTYPED_OPERATIONS: frozenset[str] = frozenset()
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _untyped(doc: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """Whether *schema* (of a 2xx body) tells a client nothing of its fields: missing, empty,
    or an object (or a list of objects) without properties, `$ref`s followed."""
    seen: set[str] = set()
    while schema is not None and "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        if name in seen:
            return False
        seen.add(name)
        schema = doc["components"]["schemas"].get(name)
    if not schema:
        return True
    if any(key in schema for key in ("oneOf", "anyOf", "allOf")):
        parts = schema.get("oneOf", []) + schema.get("anyOf", []) + schema.get("allOf", [])
        return all(_untyped(doc, part) for part in parts)
    if schema.get("type") == "array":
        return _untyped(doc, schema.get("items"))
    if schema.get("type") in (None, "object"):
        return not schema.get("properties")
    return False  # a string, a number, a boolean (a PDF or a CSV is a string)


def _untyped_operations(doc: dict[str, Any]) -> set[str]:
    found = set()
    for path, item in doc["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            answers = {
                status: answer
                for status, answer in operation.get("responses", {}).items()
                if status.startswith("2")
            }
            bodies = [
                body
                for status, answer in answers.items()
                if status != "204"  # No Content: nothing to describe
                for body in answer.get("content", {None: None}).values()
            ]
            if not answers or any(_untyped(doc, (b or {}).get("schema")) for b in bodies):
                found.add(f"{method.upper()} {path}")
    return found


def test_untyped_finds_what_a_client_cannot_be_generated_for() -> None:
    doc: dict[str, Any] = {
        "components": {
            "schemas": {
                "Run": {"type": "object", "properties": {"run_id": {"type": "string"}}},
                "Anything": {"type": "object", "additionalProperties": {}},
            }
        }
    }
    assert _untyped(doc, None) and _untyped(doc, {})
    assert _untyped(doc, {"type": "object", "additionalProperties": {}})  # dict[str, Any]
    assert _untyped(doc, {"type": "object", "additionalProperties": {"type": "integer"}})
    assert _untyped(doc, {"$ref": "#/components/schemas/Anything"})
    assert _untyped(doc, {"type": "array", "items": {"$ref": "#/components/schemas/Anything"}})
    assert not _untyped(doc, {"$ref": "#/components/schemas/Run"})
    assert not _untyped(doc, {"type": "array", "items": {"$ref": "#/components/schemas/Run"}})
    assert not _untyped(doc, {"oneOf": [{"$ref": "#/components/schemas/Run"}, {"type": "null"}]})
    assert not _untyped(doc, {"type": "string"})  # a PDF, a CSV
    doc["paths"] = {
        "/api/runs": {
            "get": {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}},
            "post": {"responses": {"202": {"description": "accepted, no body described"}}},
            "delete": {"responses": {"204": {"description": "gone"}}},
            "parameters": [],
        },
        "/api/runs/{run_id}": {
            "get": {
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Run"}}
                        }
                    },
                    "404": {"content": {"application/problem+json": {"schema": {}}}},
                }
            }
        },
    }
    assert _untyped_operations(doc) == {"GET /api/runs", "POST /api/runs"}


def _clashing_schemas(docs: dict[str, dict[str, Any]]) -> list[str]:
    """Names of components.schemas that two services define with different content: the merged
    document keeps one of them (it updates its schemas by name), so the other service's
    operations would be documented with a foreign model. Within one service, Litestar names
    two same-named models after their modules (``webhooks_api_DeliveryOut`` and
    ``delivery_api_DeliveryOut``, or one of them alone beside ``DeliveryOut``), which client
    generators stumble over (openapi-python-client dropped the page holding one)."""
    first: dict[str, tuple[str, Any]] = {}
    clashes = []
    for service, doc in docs.items():
        names = doc.get("components", {}).get("schemas", {})
        prefixed = [name for name in names if "_" in name]
        tails = [name.rsplit("_", 1)[1] for name in prefixed]
        for name, tail in zip(prefixed, tails, strict=True):
            if tail in names or tails.count(tail) > 1:
                clashes.append(f"{name} ({service}: two models named {tail})")
        for name, schema in names.items():
            if name not in first:
                first[name] = (service, schema)
            elif first[name][1] != schema:
                clashes.append(f"{name} ({first[name][0]}, {service})")
    return sorted(clashes)


def test_clashing_schemas_are_same_named_ones_that_differ() -> None:
    run = {"type": "object", "properties": {"run_id": {"type": "string"}}}
    page = {"type": "object", "properties": {"items": {"type": "array"}}}
    other_page = {"type": "object", "properties": {"rows": {"type": "array"}}}
    docs = {
        "settlement": {"components": {"schemas": {"Run": run, "Page": page}}},
        "invoicing": {"components": {"schemas": {"Run": dict(run), "Page": other_page}}},
        "gateway": {},
        "reconciliation": {"components": {"schemas": {"Row": run, "api_Row": page}}},
        "datahub": {"components": {"schemas": {"a_Out": run, "b_Out": page, "Out_": page}}},
    }
    assert _clashing_schemas(docs) == [
        "Page (settlement, invoicing)",
        "a_Out (datahub: two models named Out)",
        "api_Row (reconciliation: two models named Row)",
        "b_Out (datahub: two models named Out)",
    ]


async def test_every_operation_answers_with_a_typed_schema_but_the_listed_ones(
    postgres_dsn: str,
) -> None:
    """The merged document of every service (the simulator has no /api paths: it is DataHub's
    stand-in) and the gateway's own operations."""
    docs = await service_documents()
    # The services with public paths (the simulator's same-named models stay out: the merge
    # takes the schemas a service's public paths use).
    public = {n: doc for n, doc in docs.items() if any(p.startswith("/api/") for p in doc["paths"])}
    clashes = _clashing_schemas(public)
    assert not clashes, f"schemas of one name, different content, in two services: {clashes}"
    async with _gateway(postgres_dsn, docs) as rig:
        doc = (await rig.client.get("/schema/openapi.json")).json()
    assert doc["x-unavailable"] == []
    operations = {
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in METHODS
        if method in item
    }
    assert len(operations) > 90  # every service's, not a stand-in's
    untyped = _untyped_operations(doc)
    new = sorted(untyped - UNTYPED_OPERATIONS)
    assert not new, f"operations without a typed response model: {new}"
    typed = sorted(UNTYPED_OPERATIONS - untyped)
    assert not typed, f"typed (or gone) now, remove them from UNTYPED_OPERATIONS: {typed}"


async def test_wattline_openapi_writes_what_a_gateway_in_front_of_every_service_serves(
    postgres_dsn: str, tmp_path: Path
) -> None:
    written = tmp_path / "openapi.json"
    # In a thread: the command runs its own event loop, as from a shell.
    result = await asyncio.to_thread(
        CliRunner().invoke, cli.app, ["openapi", "-o", str(written)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    text = written.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text == render(json.loads(text))  # sorted, indented
    docs = await service_documents()
    async with _gateway(postgres_dsn, docs) as rig:
        served = (await rig.client.get("/schema/openapi.json")).json()
    assert json.loads(text) == served
    assert served["x-unavailable"] == []
    assert "post" in served["paths"]["/api/signup"] and "/api/audit" in served["paths"]
    session = served["paths"]["/api/session"]  # the back office's login, typed
    assert set(session) == {"get", "post", "delete"}
    assert {"LoginIn", "SessionOut"} <= set(served["components"]["schemas"])
    # Only what the paths use: the models only the simulator has (it has no /api paths).
    others = {
        name for n, doc in docs.items() if n != "simulator" for name in doc["components"]["schemas"]
    }
    simulators = set(docs["simulator"]["components"]["schemas"]) - others
    assert "ClockOut" in simulators and not simulators & set(served["components"]["schemas"])
    # Stable: a second run writes the same bytes.
    again = await asyncio.to_thread(CliRunner().invoke, cli.app, ["openapi"])
    assert again.exit_code == 0 and again.stdout == text


def test_the_command_builds_every_service_the_gateway_routes_to() -> None:
    assert set(BUILDERS) == routed_services()


def test_the_merge_takes_each_services_public_paths_and_only_the_models_they_use() -> None:
    def part(path: str, point: dict[str, Any], **more: Any) -> dict[str, Any]:
        ok = {"200": {"content": {"application/json": {"schema": {"$ref": SCHEMAS + "Page"}}}}}
        page = {"type": "object", "properties": {"items": {"$ref": SCHEMAS + "Point"}}}
        return {
            "paths": {path: {"get": {"responses": ok}}, "/health/live": {"get": {}}},
            "components": {"schemas": {"Page": page, "Point": point, **more}},
        }

    ours = {"type": "object", "properties": {"gsrn": {"type": "string"}}}
    market = {"type": "object", "properties": {"grid_area": {"type": "string"}}}
    parts = {
        # Its models share the portfolio's names, its paths are not /api: it must not count.
        "simulator": part("/sim/points", market, Clock={"type": "object"}),
        "portfolio": part("/api/portfolio/points", ours, Unused={"type": "object"}),
        "settlement": None,
    }
    merged = openapi.merge(parts, lambda first: first if first != "sim" else None, {})
    assert set(merged["paths"]) == {"/api/portfolio/points"}
    assert merged["components"]["schemas"]["Point"] == ours
    assert set(merged["components"]["schemas"]) == {"Page", "Point"}
    assert merged["x-unavailable"] == ["settlement"]
    assert openapi.merge(dict(reversed(parts.items())), lambda f: f, {}) == openapi.merge(
        parts, lambda f: f, {}
    )
