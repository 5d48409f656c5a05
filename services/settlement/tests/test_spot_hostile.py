"""Whatever an Energi Data Service file (or answer) holds, the spot price import stores its
prices or refuses it with InvalidSpotFile, never another exception: hypothesis (derandomized)
generates EDS records with hostile times, areas and prices, and broken documents around them,
into the parser and through the import into real PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar, Response, get
from litestar.params import FromPath
from wattline_platform.db import Database
from wattline_platform.testing import SchemaFactory, serve_app
from wattline_settlement.adapters import prices as spot_store
from wattline_settlement.bootstrap import SPEC
from wattline_settlement.handlers import pricing

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DAY = timedelta(days=1)
HOSTILE_TEXT = st.sampled_from(
    [
        "",
        "\x00",
        "DK1\x00",
        "1e999999999",
        "NaN",
        "-Infinity",
        "1_000",
        "٣",
        "x" * 5_000,
    ]
)
HOSTILE_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:00:00",
        "2025-02-30T00:00",
        "2025-10-01T00:07:00",
    ]
)
HOSTILE_NUMBER = st.sampled_from([0, -1, 2**63, 10**400, 1e308, float("inf"), float("nan")])
# Aligned times around the switch to quarter hours (2025-10-01 local), hours and quarters.
TIMES = st.builds(
    lambda quarters: (
        datetime(2025, 9, 20, tzinfo=UTC) + timedelta(minutes=15 * quarters)
    ).strftime("%Y-%m-%dT%H:%M:%S"),
    st.integers(0, 4 * 24 * 30),
)
SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    SCALAR | HOSTILE_TEXT | HOSTILE_NUMBER,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
PRICES = st.decimals(-5_000, 5_000, places=5).map(str) | st.integers(-5_000, 5_000) | st.none()
HOSTILE = HOSTILE_TEXT | HOSTILE_NUMBER | ANY_JSON
_DELETE = object()


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """An EDS record of either dataset, and mostly one of its fields made hostile."""
    time_field, price_field = draw(
        st.sampled_from([("HourUTC", "SpotPriceDKK"), ("TimeUTC", "DayAheadPriceDKK")])
    )
    record = {
        "PriceArea": draw(st.sampled_from(["DK1", "DK2", "SE3"])),
        time_field: draw(TIMES | HOSTILE_TIMES),
        price_field: draw(PRICES),
    }
    if draw(st.integers(0, 3)):
        field = draw(st.sampled_from([*sorted(record), "HourDK"]))
        value = draw(HOSTILE | st.just(_DELETE))
        if value is _DELETE:
            record.pop(field, None)
        else:
            record[field] = value
    return record


RECORDS = st.lists(records() | ANY_JSON, max_size=6)
DOCUMENTS = st.one_of(
    st.builds(lambda records, total: {"total": total, "records": records}, RECORDS, ANY_JSON),
    RECORDS,
    ANY_JSON,
)
BODIES = st.one_of(
    DOCUMENTS.map(lambda doc: json.dumps(doc).encode()),  # NaN and Infinity as EDS never would
    st.binary(max_size=300),
    st.integers(1, 6000).map(lambda n: b'{"records": [' + b"1" * n + b"]}"),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
)


def parsed_or_refused(body: bytes) -> spot_store.Parsed | None:
    try:
        return spot_store.parse_file(body)
    except spot_store.InvalidSpotFile:
        return None


@SETTINGS
@given(BODIES)
def test_any_file_is_parsed_or_refused(body: bytes) -> None:
    parsed = parsed_or_refused(body)
    if parsed is not None:  # what is kept is a price of DK1 or DK2 within the market's bounds
        for price in parsed.prices:
            assert price.price_area in ("DK1", "DK2")
            assert abs(price.dkk_per_kwh) <= spot_store.MAX_DKK_PER_MWH / 1000


@pytest.fixture
async def spot_db(make_schema_db: SchemaFactory) -> Database:
    return await make_schema_db(SPEC.migrations_dir)


@settings(
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one schema for all examples: upserts are fine
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(DOCUMENTS.map(lambda doc: json.dumps(doc).encode()))
async def test_any_file_is_stored_or_refused(spot_db: Database, body: bytes) -> None:
    try:
        result = await pricing.import_spot_file(spot_db, body)
    except spot_store.InvalidSpotFile:
        return
    # A record repeated with the same price is received twice and stored once.
    assert result["inserted"] + result["updated"] + result["unchanged"] <= result["received"]


@pytest.mark.parametrize(
    "record",
    [
        # Year 1 at +14:00 is before datetime's first UTC instant (was OverflowError).
        {"PriceArea": "DK1", "HourUTC": "0001-01-01T00:00:00+14:00", "SpotPriceDKK": 1},
        {"PriceArea": "DK1", "HourUTC": "9999-12-31T23:00:00", "SpotPriceDKK": 1},
        {"PriceArea": "DK1", "HourUTC": "0001-01-01T00:00:00", "SpotPriceDKK": 1},
    ],
)
def test_times_outside_the_market_are_refused(record: dict[str, Any]) -> None:
    with pytest.raises(spot_store.InvalidSpotFile, match="time"):
        spot_store.parse_file(json.dumps({"records": [record]}).encode())


@dataclass
class FakeEds:
    """A real HTTP server answering every dataset request with ``body``."""

    client: spot_store.EdsClient
    body: bytes = b""
    requests: int = 0


@pytest.fixture
async def eds() -> AsyncIterator[FakeEds]:
    box: list[FakeEds] = []

    @get("/dataset/{name:str}")
    async def dataset(name: FromPath[str]) -> Response[bytes]:
        box[0].requests += 1
        return Response(box[0].body, media_type="application/json")

    async with (
        serve_app(Litestar([dataset])) as url,
        spot_store.EdsClient(url, page_size=2) as client,
    ):
        box.append(FakeEds(client))
        yield box[0]


@settings(
    derandomize=True,
    deadline=None,
    max_examples=80,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one server, its answer set per example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(BODIES)
async def test_any_eds_answer_is_read_or_refused(eds: FakeEds, body: bytes) -> None:
    eds.body, eds.requests = body, 0
    start = datetime(2025, 1, 1, tzinfo=UTC)
    try:
        records = await eds.client.records(spot_store.ELSPOTPRICES, "DK1", start, start + DAY)
        spot_store.parse_records(records)
    except (spot_store.EdsError, spot_store.InvalidSpotFile):
        pass
    assert eds.requests <= 13  # a day's 24 hours at 2 a page, and one more: paging ends


async def test_an_answer_whose_total_never_comes_is_an_eds_error(eds: FakeEds) -> None:
    record = {"PriceArea": "DK1", "HourUTC": "2025-01-01T00:00:00", "SpotPriceDKK": 1}
    eds.body = json.dumps({"total": 10**9, "records": [record, record]}).encode()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(spot_store.EdsError, match="more records than"):
        await eds.client.records(spot_store.ELSPOTPRICES, "DK1", start, start + DAY)
    assert eds.requests == 13
