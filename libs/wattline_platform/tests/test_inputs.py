"""Hostile input at the edge: the one JSON decoder, NUL in paths and queries, bounded types."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Litestar, get, post
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.testing import AsyncTestClient
from pydantic import BaseModel, ConfigDict
from wattline_platform.inputs import (
    MAX_JSON_BYTES,
    BillingPeriod,
    BoundedRequest,
    BusinessDate,
    DkkPerKwh,
    Int32,
    Kwh,
    Page,
    PageSize,
    SearchText,
    refuse_nul_middleware,
)
from wattline_platform.problem import EXCEPTION_HANDLERS


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    tags: list[Any] = []
    order: Int32 = 0
    day: BusinessDate = date(2025, 1, 1)
    kwh: Kwh = Decimal(0)
    rate: DkkPerKwh = Decimal(0)
    period: BillingPeriod = "2025-01"


@post("/things")
async def create(data: JSONBody[Thing]) -> dict[str, str]:
    return {"name": data.name}


@post("/big", opt={"max_json_bytes": 4 * MAX_JSON_BYTES})
async def big(data: JSONBody[Thing]) -> dict[str, int]:
    return {"tags": len(data.tags)}


@get("/things")
async def list_things(
    page: FromQuery[Page] = 1,
    page_size: FromQuery[PageSize] = 50,
    search: FromQuery[SearchText] = None,
) -> dict[str, Any]:
    return {"page": page, "page_size": page_size, "search": search}


@get("/things/{name:str}")
async def one(name: FromPath[str]) -> dict[str, str]:
    return {"name": name}


def app() -> Litestar:
    return Litestar(
        [create, big, list_things, one],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[refuse_nul_middleware],
        request_class=BoundedRequest,
        openapi_config=OpenAPIConfig(title="t", version="1", path="/schema"),
    )


def problem(answer: Any, status: int, slug: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == f"https://wattline.dev/problems/{slug}"


JSON = {"content-type": "application/json"}


async def test_a_json_body_is_decoded_only_within_bounds() -> None:
    async with AsyncTestClient(app=app()) as client:
        ok = await client.post("/things", json={"name": "a", "tags": [[["x"]]]})
        assert ok.status_code == 201, ok.text
        charset = {"content-type": "application/json; charset=UTF-8"}
        assert (await client.post("/things", content=b'{"name":"a"}', headers=charset)).is_success

        deep = b"[" * 5000 + b"]" * 5000
        problem(await client.post("/things", content=deep, headers=JSON), 400, "invalid-json")
        nested = b'{"name":"a","tags":' + b"[" * 40 + b"]" * 40 + b"}"
        problem(await client.post("/things", content=nested, headers=JSON), 400, "invalid-json")
        latin1 = '{"name":"Søren"}'.encode("latin-1")
        problem(await client.post("/things", content=latin1, headers=JSON), 400, "invalid-json")
        problem(
            await client.post("/things", content=b"\xff\xfe{", headers=JSON), 400, "invalid-json"
        )
        problem(
            await client.post("/things", content=b'{"name":', headers=JSON), 400, "invalid-json"
        )
        nul = b'{"name":"a\\u0000b"}'
        problem(await client.post("/things", content=nul, headers=JSON), 400, "invalid-json")
        nul_key = b'{"name":"a","tags":[{"k\\u0000":1}]}'
        problem(await client.post("/things", content=nul_key, headers=JSON), 400, "invalid-json")

        as_text = {"content-type": "text/plain"}
        body = b'{"name":"a"}'
        problem(
            await client.post("/things", content=body, headers=as_text),
            415,
            "unsupported-media-type",
        )
        form = {"content-type": "application/x-www-form-urlencoded"}
        problem(
            await client.post("/things", content=body, headers=form), 415, "unsupported-media-type"
        )
        latin = {"content-type": "application/json; charset=latin-1"}
        problem(
            await client.post("/things", content=body, headers=latin), 415, "unsupported-media-type"
        )

        padding = b" " * MAX_JSON_BYTES
        large = b'{"name":"a"}' + padding
        problem(await client.post("/things", content=large, headers=JSON), 413, "body-too-large")
        allowed = await client.post("/big", content=large, headers=JSON)
        assert allowed.status_code == 201, allowed.text


async def test_nul_in_a_path_or_query_is_refused() -> None:
    async with AsyncTestClient(app=app()) as client:
        assert (await client.get("/things?search=%2500")).json()["search"] == "%00"
        assert (await client.get("/things/a%20b")).json() == {"name": "a b"}
        problem(await client.get("/things?search=%00"), 400, "invalid-character")
        problem(await client.get("/things?search=a%00b&page=2"), 400, "invalid-character")
        problem(await client.get("/things?%00=1"), 400, "invalid-character")
        problem(await client.get("/things/a%00"), 400, "invalid-character")


async def test_pages_and_search_are_bounded_and_documented() -> None:
    async with AsyncTestClient(app=app()) as client:
        assert (await client.get("/things?page=100000&page_size=500")).is_success
        for query in ("page=9223372036854775807", "page=0", "page_size=501", "page_size=0",
                      "page=-1", "search=" + "x" * 201):  # fmt: skip
            problem(await client.get(f"/things?{query}"), 400, "validation-error")
        schema = (await client.get("/schema/openapi.json")).json()
        params = {p["name"]: p["schema"] for p in schema["paths"]["/things"]["get"]["parameters"]}
        assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, 100_000)
        assert (params["page_size"]["minimum"], params["page_size"]["maximum"]) == (1, 500)
        assert params["search"]["maxLength"] == 200


async def test_numbers_and_dates_are_bounded_by_the_domain() -> None:
    async with AsyncTestClient(app=app()) as client:
        for field, value in (
            ("order", 1180591620717411303424),
            ("day", "0001-01-01"),
            ("day", "9999-12-31"),
            ("day", "1999-12-31"),
            ("kwh", 1e308),
            ("kwh", "1E+308"),
            ("kwh", -1),
            ("kwh", "0.0001"),
            ("rate", 1e308),
            ("rate", "0.0000001"),
            ("period", "0000-01"),
            ("period", "9999-12"),
            ("period", "2025-13"),
            ("period", "20\u0662\u0665-01"),  # Arabic-Indic digits: \d would take them
        ):
            answer = await client.post("/things", json={"name": "a", field: value})
            problem(answer, 400, "validation-error")
        edge = {"day": "2100-12-31", "kwh": "1000000000", "rate": "-100", "period": "2100-12"}
        assert (await client.post("/things", json={"name": "a", **edge})).status_code == 201
        schema = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
        fields = schema["Thing"]["properties"]
        assert (fields["order"]["minimum"], fields["order"]["maximum"]) == (-(2**31), 2**31 - 1)
        assert (fields["kwh"]["minimum"], fields["kwh"]["maximum"]) == (0, 1e9)
        assert (fields["rate"]["minimum"], fields["rate"]["maximum"]) == (-100, 100)
        assert fields["period"]["pattern"].startswith("^(20")
