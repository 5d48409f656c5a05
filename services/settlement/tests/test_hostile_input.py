"""Issue 13: hostile requests to settlement's API are a 4xx problem+json, never a 500, and
nothing out of bounds is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app
from wattline_settlement.bootstrap import SPEC, SettlementSettings, build

GSRN = "571313180000000005"


@pytest.fixture
async def api(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    service = build(SettlementSettings(database_url=postgres_dsn, jobs=False))
    service.db = await make_schema_db(SPEC.migrations_dir)
    service.uses_broker = False
    async with (
        serve_app(service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
    ):
        yield client


def problem(answer: httpx.Response, status: int, slug: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == f"https://wattline.dev/problems/{slug}"


@pytest.mark.parametrize(
    "path",
    [
        "/api/settlement/runs",
        "/api/settlements/uninvoiced",
        "/api/settlements/adjustments",
    ],
)
async def test_pages_beyond_the_bounds_are_400(api: httpx.AsyncClient, path: str) -> None:
    for query in ("page=9223372036854775807", "page=0", "page_size=100000", "page_size=0"):
        problem(await api.get(f"{path}?{query}"), 400, "validation-error")
    assert (await api.get(f"{path}?page=100000&page_size=500")).status_code == 200


async def test_run_filters_are_bounded(api: httpx.AsyncClient) -> None:
    for query in ("period=0000-01", "period=9999-12", "grid_area=1234", "status=nonsense"):
        problem(await api.get(f"/api/settlement/runs?{query}"), 400, "validation-error")
    problem(await api.get("/api/settlement/runs?status=%00"), 400, "invalid-character")
    listed = await api.get("/api/settlement/runs?period=2025-01&grid_area=344&status=completed")
    assert listed.json()["items"] == []


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1999-12", "2101-01", "2025-00"])
async def test_a_run_for_a_period_outside_the_supported_range_is_400(
    api: httpx.AsyncClient, period: str
) -> None:
    problem(
        await api.post("/api/settlement/runs", json={"period": period}), 400, "validation-error"
    )
    assert (await api.get("/api/settlement/runs")).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"from_date": "2025-01-01", "consumed_kwh_before": 1e308},
        {"from_date": "2025-01-01", "consumed_kwh_before": "1E+308"},
        {"from_date": "2025-01-01", "consumed_kwh_before": "1000000000.001"},
        {"from_date": "2025-01-01", "threshold_kwh": 1e308},
        {"from_date": "0001-01-01"},
        {"from_date": "9999-12-31"},
    ],
)
async def test_elvarme_is_bounded(api: httpx.AsyncClient, body: dict[str, Any]) -> None:
    answer = await api.put(f"/api/settlement/metering-points/{GSRN}/elvarme", json=body)
    problem(answer, 400, "validation-error")


async def test_elvarme_within_the_bounds_is_stored(api: httpx.AsyncClient) -> None:
    body = {"from_date": "2100-12-31", "consumed_kwh_before": "1000000000.000"}
    answer = await api.put(f"/api/settlement/metering-points/{GSRN}/elvarme", json=body)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "body",
    [
        {"valid_from": "2025-01-01", "dkk_per_kwh": 1e308},
        {"valid_from": "2025-01-01", "dkk_per_kwh": "1E+308"},
        {"valid_from": "2025-01-01", "dkk_per_kwh": "0.0000001"},
        {"valid_from": "2025-01-01", "dkk_per_kwh": "-0.1"},
        {"valid_from": "0001-01-01", "dkk_per_kwh": "0.008"},
        {"valid_from": "9999-12-31", "dkk_per_kwh": "0.008"},
    ],
)
async def test_the_reduced_tax_rate_is_bounded(
    api: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    answer = await api.put("/api/settlement/reduced-electricity-tax", json=body)
    problem(answer, 400, "validation-error")
    fine = await api.put(
        "/api/settlement/reduced-electricity-tax",
        json={"valid_from": "2025-01-01", "dkk_per_kwh": "0.008"},
    )
    assert fine.json() == {"valid_from": "2025-01-01", "dkk_per_kwh": "0.008"}


async def test_the_openapi_document_shows_the_bounds(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    params = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/settlement/runs"]["get"]["parameters"]
    }
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, 100_000)
    assert (params["page_size"]["minimum"], params["page_size"]["maximum"]) == (1, 500)
    assert params["period"]["pattern"].startswith("^(20")
    models = schema["components"]["schemas"]
    assert models["RunIn"]["properties"]["period"]["pattern"].startswith("^(20")
    assert models["ElvarmeIn"]["properties"]["consumed_kwh_before"]["maximum"] == 1e9
    assert models["ReducedTaxIn"]["properties"]["dkk_per_kwh"]["minimum"] == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b"\xff\xfe",
        b'{"records":[{"HourUTC":"2025-01-01T00:00:00","PriceArea":"DK1","SpotPriceDKK":1e400}]}',
        b'{"records":[{"HourUTC":"2025-01-01T00:00:00","PriceArea":"DK1","SpotPriceDKK":-2e5}]}',
    ],
)
async def test_an_uploaded_spot_file_out_of_bounds_is_400_and_stores_nothing(
    api: httpx.AsyncClient, body: bytes
) -> None:
    answer = await api.post("/api/settlement/spot-prices/upload", content=body)
    problem(answer, 400, "invalid-spot-file")
    window = {"price_area": "DK1", "from": "2025-01-01", "to": "2025-01-01"}
    assert (await api.get("/api/settlement/spot-prices", params=window)).json()["count"] == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
async def test_spot_price_dates_outside_the_supported_range_are_400(
    api: httpx.AsyncClient, day: str
) -> None:
    window = {"price_area": "DK1", "from": day, "to": day}
    problem(await api.get("/api/settlement/spot-prices", params=window), 400, "unsupported-date")
    imported = await api.post("/api/settlement/spot-prices/import", json=window)
    problem(imported, 400, "validation-error")
