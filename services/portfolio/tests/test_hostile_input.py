"""Issue 13: every hostile request a probe sent the portfolio is a 4xx problem+json, never a
500, and nothing of it reaches the database."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .conftest import Rig

PRODUCT = {
    "name": "Spot Plus",
    "valid_from": "2025-04-01",
    "margin_dkk_per_kwh": "0.05",
    "subscription_dkk_per_month": "29",
}


def problem(answer: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    if slug is not None:
        assert body["type"] == f"https://wattline.dev/problems/{slug}", body
    return body


@pytest.mark.parametrize(
    "path", ["/api/signups", "/api/processes", "/api/customers", "/api/portfolio/imports"]
)
async def test_pages_beyond_the_bounds_are_400(rig: Rig, path: str) -> None:
    size = "limit" if path.endswith("imports") else "page_size"
    if size == "page_size":
        problem(await rig.client.get(f"{path}?page=9223372036854775807"), 400, "validation-error")
        problem(await rig.client.get(f"{path}?page=0"), 400, "validation-error")
    problem(await rig.client.get(f"{path}?{size}=100000"), 400, "validation-error")
    problem(await rig.client.get(f"{path}?{size}=0"), 400, "validation-error")
    assert (await rig.client.get(f"{path}?{size}=500")).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "/api/processes?gsrn=%00",
        "/api/processes?status=%00",
        "/api/signups?search=%00",
        "/api/customers?search=a%00b",
        "/api/customers/%00",
        "/api/signup/SGN-2025-%00/status",
    ],
)
async def test_a_nul_in_a_parameter_is_400(rig: Rig, query: str) -> None:
    problem(await rig.client.get(query), 400, "invalid-character")


async def test_filters_are_typed_and_bounded(rig: Rig) -> None:
    problem(await rig.client.get("/api/processes?status=nonsense"), 400, "validation-error")
    problem(await rig.client.get("/api/processes?gsrn=12345"), 400, "validation-error")
    problem(await rig.client.get("/api/signups?search=" + "x" * 201), 400, "validation-error")
    problem(await rig.client.get("/api/portfolio/imports?after=" + "x" * 201), 400)
    # A cursor that is no import_id is a bad request, not a missing import (found by fuzzing).
    problem(await rig.client.get("/api/portfolio/imports?after="), 400, "invalid-cursor")
    problem(await rig.client.get("/api/portfolio/imports?after=abc"), 400, "invalid-cursor")
    assert (await rig.client.get("/api/processes?status=pending")).status_code == 200
    gsrn = rig.single(0).gsrn
    assert (await rig.client.get(f"/api/processes?gsrn={gsrn}")).json()["items"] == []


async def test_a_product_name_with_nul_is_400_and_not_stored(rig: Rig) -> None:
    answer = await rig.client.post("/api/products", json={**PRODUCT, "name": "Spot\u0000Plus"})
    problem(answer, 400, "invalid-json")
    names = [
        p["name"] for p in (await rig.client.get("/api/products?include_inactive=true")).json()
    ]
    assert not [n for n in names if "Plus" in n]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_order", 1180591620717411303424),
        ("display_order", -1),
        ("margin_dkk_per_kwh", 1e308),
        ("subscription_dkk_per_month", "1E+308"),
        ("fixed_price_dkk_per_kwh", "1e308"),
        ("valid_from", "0001-01-01"),
        ("valid_from", "9999-12-31"),
    ],
)
async def test_product_numbers_and_dates_are_bounded(rig: Rig, field: str, value: Any) -> None:
    problem(await rig.client.post("/api/products", json={**PRODUCT, field: value}), 400)
    product = (await rig.client.get("/api/products")).json()[0]["product_id"]
    if field == "display_order":
        patched = await rig.client.patch(f"/api/products/{product}", json={field: value})
        problem(patched, 400, "validation-error")


async def test_a_product_within_the_bounds_is_created(rig: Rig) -> None:
    created = await rig.client.post("/api/products", json={**PRODUCT, "display_order": 2**31 - 1})
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b'{"customer_name": "S\xf8ren"}', "application/json", 400),
        (b"\xff\xfe\xfd", "application/json", 400),
        (b'{"customer_name": "a"}', "text/plain", 415),
    ],
)
async def test_a_signup_body_must_be_json_and_sane(
    rig: Rig, content: bytes, content_type: str, status: int
) -> None:
    answer = await rig.client.post(
        "/api/signup", content=content, headers={"content-type": content_type}
    )
    problem(answer, status, "invalid-json" if status == 400 else "unsupported-media-type")


async def test_a_signup_sent_as_text_plain_is_415_and_registers_nothing(rig: Rig) -> None:
    import json

    body = json.dumps(rig.signup_body(rig.single(0))).encode()
    answer = await rig.client.post(
        "/api/signup", content=body, headers={"content-type": "text/plain"}
    )
    problem(answer, 415, "unsupported-media-type")
    assert (await rig.client.get("/api/signups")).json()["items"] == []
    accepted = await rig.client.post(
        "/api/signup", content=body, headers={"content-type": "application/json"}
    )
    assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize(
    ("field", "value"), [("effective_date", "0001-01-01"), ("effective_date", "9999-12-31")]
)
async def test_signup_dates_are_within_the_supported_range(
    rig: Rig, field: str, value: str
) -> None:
    answer = await rig.client.post(
        "/api/signup", json=rig.signup_body(rig.single(0), **{field: value})
    )
    problem(answer, 400, "validation-error")


async def test_process_and_product_change_dates_are_within_the_supported_range(rig: Rig) -> None:
    gsrn = rig.single(0).gsrn
    for day in ("0001-01-01", "9999-12-31"):
        started = await rig.client.post(
            "/api/processes", json={"kind": "move_out", "gsrn": gsrn, "effective_date": day}
        )
        problem(started, 400, "validation-error")
        product = str(uuid.uuid4())
        changed = await rig.client.post(
            f"/api/contracts/{uuid.uuid4()}/product-change",
            json={"product_id": product, "from_date": day},
        )
        problem(changed, 400, "validation-error")


async def test_the_openapi_document_shows_the_bounds(rig: Rig) -> None:
    schema = (await rig.client.get("/schema/openapi.json")).json()
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/signups"]["get"]["parameters"]}
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, 100_000)
    assert (params["page_size"]["minimum"], params["page_size"]["maximum"]) == (1, 500)
    assert params["search"]["maxLength"] == 200
    product = schema["components"]["schemas"]["ProductIn"]["properties"]
    assert product["display_order"]["maximum"] == 2**31 - 1
    assert product["margin_dkk_per_kwh"]["maximum"] == 100


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
async def test_an_imported_supply_start_outside_the_supported_range_is_refused(
    rig: Rig, day: str
) -> None:
    from .test_import import CSV, csv_of, row_for

    body = csv_of([row_for(rig, rig.single(0), supply_start=day)])
    report = (await rig.client.post("/api/portfolio/imports", content=body, headers=CSV)).json()
    assert (report["imported"], report["rejected"]) == (0, 1), report
    assert report["errors"][0]["reasons"] == ["supply_start must be from 2000-01-01 to 2100-12-31"]
