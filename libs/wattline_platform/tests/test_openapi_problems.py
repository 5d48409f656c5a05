"""The errors an operation answers are in its OpenAPI document, as problem+json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar, get, post
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, JSONBody
from litestar.testing import AsyncTestClient
from pydantic import BaseModel
from wattline_platform import identity
from wattline_platform.openapi_problems import (
    ProblemDocumentingJsonPlugin,
    document_problems,
    problems,
)
from wattline_platform.problem import EXCEPTION_HANDLERS, PROBLEM_JSON


class Thing(BaseModel):
    name: str


@post("/api/things")
async def create(data: JSONBody[Thing]) -> Thing:
    return data


@get("/api/things/{name:str}")
async def one(name: FromPath[str]) -> Thing:
    return Thing(name=name)


@get("/api/report", responses=problems(422))
async def report() -> Thing:
    return Thing(name="report")


@get("/sim/clock")
async def clock() -> Thing:
    return Thing(name="clock")


@post("/sim/clock")
async def move_clock() -> Thing:
    return Thing(name="clock")


def app(requires_identity: Callable[[str, str], bool] = identity.api_paths) -> Litestar:
    return Litestar(
        [create, one, report, clock, move_clock],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="t",
            version="1",
            path="/schema",
            render_plugins=[ProblemDocumentingJsonPlugin(requires_identity)],
        ),
    )


def statuses(doc: dict[str, Any], path: str, method: str) -> set[int]:
    return {int(s) for s in doc["paths"][path][method]["responses"]}


async def test_a_service_documents_what_its_routes_answer() -> None:
    async with AsyncTestClient(app()) as client:
        doc = (await client.get("/schema/openapi.json")).json()
    assert statuses(doc, "/api/things", "post") == {201, 400, 401, 409, 413, 415, 422}
    assert statuses(doc, "/api/things/{name}", "get") == {200, 400, 401, 404}
    assert statuses(doc, "/api/report", "get") == {200, 400, 401, 422}
    assert statuses(doc, "/sim/clock", "get") == {200, 400}  # no identity outside /api
    # Litestar's own 400 body ({status_code, detail}) is never sent: the problem is documented.
    bad = doc["paths"]["/api/things"]["post"]["responses"]["400"]["content"]
    assert list(bad) == [PROBLEM_JSON]
    assert bad[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
    schema = doc["components"]["schemas"]["ProblemDetails"]
    assert set(schema["required"]) == {"type", "title", "status"}


async def test_the_gateway_adds_what_it_answers_before_the_service() -> None:
    async with AsyncTestClient(app()) as client:
        service_doc = (await client.get("/schema/openapi.json")).json()
    doc = document_problems(service_doc, gateway=True)
    assert statuses(doc, "/api/things/{name}", "get") == {
        *(200, 400, 401, 404),
        *(403, 429, 502, 503, 504),
    }
    assert 413 in statuses(doc, "/api/things", "post")
    assert "Retry-After" in doc["paths"]["/api/report"]["get"]["responses"]["429"]["headers"]
    assert document_problems(doc, gateway=True) == doc  # idempotent
    assert "403" not in service_doc["paths"]["/api/report"]["get"]["responses"]  # a copy


async def test_401_where_the_services_own_rule_asks_for_the_identity() -> None:
    def control_routes(method: str, path: str) -> bool:
        return path.startswith("/sim/") and method != "GET"

    async with AsyncTestClient(app(control_routes)) as client:
        doc = (await client.get("/schema/openapi.json")).json()
    assert 401 in statuses(doc, "/sim/clock", "post")
    assert 401 not in statuses(doc, "/sim/clock", "get")
    assert 401 not in statuses(doc, "/api/things/{name}", "get")
