"""Energi Data Service offline: the shapes of the shared EDS fixtures, with synthetic prices."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from wattline_simulator.domain.spot import as_stored_float32
from wattline_simulator.testing import Sim


def _fixture(name: str) -> dict[str, Any]:
    for parent in Path(__file__).resolve().parents:
        path = parent / "shared" / "reference" / "fixtures" / "spot" / name
        if path.is_file():
            loaded: dict[str, Any] = json.loads(path.read_text(), parse_float=Decimal)
            return loaded
    pytest.skip(f"shared fixture {name} not found")


async def _get(sim: Sim, path: str, params: dict[str, str]) -> dict[str, Any]:
    response = await sim.client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = json.loads(response.content, parse_float=Decimal)
    return body


def _assert_same_shape(ours: dict[str, Any], theirs: dict[str, Any], time_keys: list[str]) -> None:
    assert list(ours) == list(theirs)  # envelope keys in EDS's order
    assert {k: v for k, v in ours.items() if k != "records"} == {
        k: v for k, v in theirs.items() if k != "records"
    }
    assert len(ours["records"]) == len(theirs["records"])
    for mine, real in zip(ours["records"], theirs["records"], strict=True):
        assert list(mine) == list(real)  # field names and order
        assert [mine[k] for k in time_keys] == [real[k] for k in time_keys]
        for key, value in mine.items():
            if key not in time_keys:
                # A JSON number, never a string; a whole price is written without decimals.
                assert isinstance(value, Decimal | int) and not isinstance(value, bool)
                assert -Decimal(value).as_tuple().exponent <= 6  # type: ignore[operator]


async def test_elspotprices_two_areas_in_the_fixtures_shape(sim: Sim) -> None:
    body = await _get(
        sim,
        "/dataset/Elspotprices",
        {
            "start": "2025-01-15T00:00",
            "end": "2025-01-16T00:00",
            "filter": '{"PriceArea":["DK1","DK2"]}',
            "sort": "HourUTC ASC",
            "limit": "100",
        },
    )
    _assert_same_shape(
        body,
        _fixture("elspotprices-dk1-dk2-2025-01-15.json"),
        ["HourUTC", "HourDK", "PriceArea"],
    )
    assert body["total"] == 48
    first = body["records"][0]
    assert (first["HourUTC"], first["HourDK"], first["PriceArea"]) == (
        "2025-01-14T23:00:00",
        "2025-01-15T00:00:00",
        "DK1",
    )
    # Deterministic synthetic prices, float32 artefacts included (before 2025-02-01 DKK too).
    assert (first["SpotPriceEUR"], first["SpotPriceDKK"]) == (
        Decimal("70.410004"),
        Decimal("525.369995"),
    )
    again = await _get(
        sim,
        "/dataset/Elspotprices",
        {"start": "2025-01-15T00:00", "end": "2025-01-16T00:00", "sort": "HourUTC ASC"},
    )
    assert again["records"] == body["records"]


@pytest.mark.parametrize(
    ("day", "end", "count"),
    [("2025-10-15", "2025-10-16", 96), ("2025-10-26", "2025-10-27", 100)],
)
async def test_dayaheadprices_quarters_newest_first(
    sim: Sim, day: str, end: str, count: int
) -> None:
    body = await _get(
        sim,
        "/dataset/DayAheadPrices",
        {
            "start": f"{day}T00:00",
            "end": f"{end}T00:00",
            "filter": '{"PriceArea":["DK1"]}',
            "limit": "200",
        },
    )
    suffix = "-dst" if count == 100 else ""
    _assert_same_shape(
        body,
        _fixture(f"dayaheadprices-dk1-{day}{suffix}.json"),
        ["TimeUTC", "TimeDK", "PriceArea"],
    )
    assert body["total"] == count and len(body["records"]) == count
    times = [r["TimeUTC"] for r in body["records"]]
    assert times == sorted(times, reverse=True)
    for r in body["records"]:
        # From 2025-02-01 DKK = EUR (2 decimals) x the day's rate (4 decimals), 6 decimals.
        eur = Decimal(r["DayAheadPriceEUR"]).quantize(Decimal("0.01"))
        assert eur == 0 or Decimal("7.455") <= r["DayAheadPriceDKK"] / eur <= Decimal("7.47")


async def test_negative_prices_and_the_dataset_switch(sim: Sim) -> None:
    september = await _get(
        sim,
        "/dataset/Elspotprices",
        {"start": "2025-09-01", "end": "2025-10-03", "filter": '{"PriceArea":["DK1"]}'},
    )
    # Elspotprices ends with the local day 2025-09-30: 30 days x 24 hours.
    assert september["total"] == 720 and "limit" not in september
    assert september["records"][0]["HourDK"] == "2025-09-30T23:00:00"
    negative = [r for r in september["records"] if r["SpotPriceEUR"] < 0]
    assert len(negative) == 34
    assert all(r["SpotPriceDKK"] < 0 for r in negative)

    before = await _get(
        sim, "/dataset/DayAheadPrices", {"start": "2025-09-30", "end": "2025-10-01"}
    )
    assert before == {"total": 0, "dataset": "DayAheadPrices", "records": []}
    first = await _get(
        sim,
        "/dataset/DayAheadPrices",
        {"start": "2025-09-30T22:00", "end": "2025-09-30T23:00", "timezone": "UTC"},
    )
    assert [(r["TimeUTC"], r["PriceArea"]) for r in first["records"]][-2:] == [
        ("2025-09-30T22:00:00", "DK1"),
        ("2025-09-30T22:00:00", "DK2"),
    ]
    assert first["total"] == 8  # 4 quarters x 2 areas


async def test_defaults_paging_sorting_filters_and_columns(sim: Sim) -> None:
    newest = await _get(sim, "/dataset/Elspotprices", {})
    assert newest["total"] == 30_670  # both areas, local 2024-01-01 .. 2025-09-30
    assert len(newest["records"]) == 100  # neither start nor limit: 100 rows
    assert newest["records"][0]["HourUTC"] == "2025-09-30T21:00:00"
    assert list(newest) == ["total", "dataset", "records"]

    window = {"start": "2025-03-01", "end": "2025-03-03", "timezone": "dk"}
    everything = await _get(sim, "/dataset/Elspotprices", {**window, "limit": "0"})
    assert everything["total"] == len(everything["records"]) == 96
    page = await _get(sim, "/dataset/Elspotprices", {**window, "offset": "5", "limit": "10"})
    assert page["records"] == everything["records"][5:15]
    assert page["total"] == 96 and page["limit"] == 10

    by_price = await _get(
        sim, "/dataset/Elspotprices", {**window, "sort": "SpotPriceDKK desc,HourUTC"}
    )
    prices = [r["SpotPriceDKK"] for r in by_price["records"]]
    assert (
        prices == sorted(prices, reverse=True) and by_price["sort"] == "SpotPriceDKK desc,HourUTC"
    )

    bare = await _get(sim, "/dataset/Elspotprices", {**window, "filter": '{"PriceArea":"DK2"}'})
    assert {r["PriceArea"] for r in bare["records"]} == {"DK2"} and bare["total"] == 48
    assert bare["filters"] == '{"PriceArea":"DK2"}'

    narrow = await _get(
        sim, "/dataset/DayAheadPrices", {"start": "2025-11-01", "columns": "TimeUTC,PriceArea"}
    )
    assert list(narrow["records"][0]) == ["TimeUTC", "PriceArea"]

    for bad in (
        {"start": "2025-13-01"},
        {"filter": "[1]"},
        {"filter": '{"Nope":["x"]}'},
        {"sort": "Nope desc"},
        {"limit": "-1"},
        {"timezone": "Mars"},
    ):
        assert (await sim.client.get("/dataset/Elspotprices", params=bad)).status_code == 400
    assert (await sim.client.get("/dataset/CO2Emis")).status_code == 404


async def test_relative_dates_follow_the_simulated_clock(sim: Sim) -> None:
    # The clock starts at 2025-01-01T00:00Z = 01:00 Danish time.
    today = await _get(
        sim, "/dataset/Elspotprices", {"start": "StartOfDay", "end": "StartOfDay+P1D"}
    )
    assert today["total"] == 48
    assert today["records"][-1]["HourUTC"] == "2024-12-31T23:00:00"
    await sim.client.post("/sim/clock", json={"to": "2025-03-30T12:00:00Z"})
    dst = await _get(
        sim,
        "/dataset/Elspotprices",
        {"start": "StartOfDay", "end": "StartOfDay+P1D", "filter": '{"PriceArea":["DK1"]}'},
    )
    assert dst["total"] == 23  # the spring day has 23 hours
    yesterday = await _get(
        sim, "/dataset/Elspotprices", {"start": "now-P1D", "end": "now", "timezone": "UTC"}
    )
    assert yesterday["records"][-1]["HourUTC"] == "2025-03-29T12:00:00"


def test_float32_artefacts_are_emulated_exactly() -> None:
    assert as_stored_float32(7721) == Decimal("77.209999")
    assert as_stored_float32(57602) == Decimal("576.02002")
    assert as_stored_float32(82128) == Decimal("821.280029")
    assert as_stored_float32(9254) == Decimal("92.540001")
    assert as_stored_float32(7050) == Decimal("70.5")
    assert as_stored_float32(-924) == Decimal("-9.24")
