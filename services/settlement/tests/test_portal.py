"""The portal's consumption: a customer's portal token sees its own metering point by hour,
day and month beside last year's, the days and months summing the same hours; another
customer's metering point is 404 and a back-office identity is refused (real PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from wattline_platform.testing import SchemaFactory, identity_headers, portal_headers, serve_app
from wattline_settlement.bootstrap import SPEC, SettlementSettings, build

from .test_metering_data import FLAT, HOUSE, days_between, deliver, hourly

ANNA = "6f1c1b6e-2f57-4a3e-9d0a-3c2b1a000001"
BO = "6f1c1b6e-2f57-4a3e-9d0a-3c2b1a000002"


@pytest.fixture
async def rig(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[tuple]:
    service = build(SettlementSettings(database_url=postgres_dsn))
    service.db = await make_schema_db(SPEC.migrations_dir)
    service.uses_broker = False
    service.background.clear()
    async with serve_app(service.app()) as url, httpx.AsyncClient(base_url=url) as client:
        yield client, service.db


async def _supply(db, gsrn: str, customer: str, start: date) -> None:  # type: ignore[no-untyped-def]
    async with db.connection() as conn:
        await conn.execute(
            """INSERT INTO supply_periods (supply_period_id, gsrn, customer_id, start_date,
                   end_date, reason, process_id, event_id, as_of)
               VALUES ($1, $2, $3, $4, NULL, 'switch', NULL, $5, $6)""",
            uuid.uuid4(), gsrn, customer, start, uuid.uuid4(), datetime.now(UTC),
        )  # fmt: skip


def _sum(points: list[dict[str, str | None]]) -> Decimal:
    return sum((Decimal(p["kwh"] or "0") for p in points), Decimal("0"))


async def test_days_and_months_sum_the_hours_and_others_points_are_404(rig: tuple) -> None:
    client, db = rig
    await _supply(db, HOUSE, ANNA, date(2024, 1, 1))
    await _supply(db, FLAT, BO, date(2024, 1, 1))
    await deliver(db, *(hourly(HOUSE, d) for d in days_between(date(2025, 1, 1), date(2025, 2, 1))))
    await deliver(
        db, *(hourly(HOUSE, d, "0.200") for d in days_between(date(2024, 1, 1), date(2024, 1, 3)))
    )
    await deliver(db, hourly(FLAT, date(2025, 1, 1)))
    anna = portal_headers(ANNA)
    path = f"/api/settlement/portal/metering-points/{HOUSE}/consumption"

    hours = await client.get(
        path, params={"resolution": "hour", "date": "2025-01-02"}, headers=anna
    )
    assert hours.status_code == 200, hours.text
    body = hours.json()
    assert len(body["current"]["points"]) == 24
    assert body["current"]["points"][0] == {
        "start": "2025-01-01T23:00:00Z",
        "kwh": "0.100",
        "complete": True,
    }
    assert body["current"]["total_kwh"] == "30.000"  # 0.1 x (1 + ... + 24)
    assert body["last_year"]["from_date"] == "2024-01-02"
    assert body["last_year"]["total_kwh"] == "60.000"

    days = (
        await client.get(path, params={"resolution": "day", "date": "2025-01-15"}, headers=anna)
    ).json()
    assert len(days["current"]["points"]) == 31
    assert days["current"]["total_kwh"] == "930.000"
    assert days["last_year"]["total_kwh"] == "120.000"  # two days of 60
    # Each day is its hours' sum.
    for k, point in enumerate(days["current"]["points"][:3]):
        one = (
            await client.get(
                path, params={"resolution": "hour", "date": f"2025-01-{k + 1:02d}"}, headers=anna
            )
        ).json()
        assert Decimal(point["kwh"]) == _sum(one["current"]["points"]) == Decimal("30.000")
    assert _sum(days["current"]["points"]) == Decimal(days["current"]["total_kwh"])

    months = (
        await client.get(path, params={"resolution": "month", "date": "2025-06-01"}, headers=anna)
    ).json()
    assert [p["kwh"] for p in months["current"]["points"]][:2] == ["930.000", None]
    assert months["current"]["points"][0]["kwh"] == days["current"]["total_kwh"]
    assert months["last_year"]["points"][0]["kwh"] == "120.000"

    # Bo's metering point is not Anna's: 404, as an unknown one; no data shown.
    other = await client.get(
        f"/api/settlement/portal/metering-points/{FLAT}/consumption",
        params={"resolution": "hour", "date": "2025-01-01"},
        headers=anna,
    )
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("application/problem+json")
    assert "kwh" not in other.text
    mine = await client.get(
        f"/api/settlement/portal/metering-points/{FLAT}/consumption",
        params={"resolution": "hour", "date": "2025-01-01"},
        headers=portal_headers(BO),
    )
    assert mine.status_code == 200 and mine.json()["current"]["total_kwh"] == "30.000"

    # Back office on the portal route, and a portal token on a back-office route: 403.
    office = await client.get(
        path, params={"resolution": "hour", "date": "2025-01-02"}, headers=identity_headers()
    )
    assert office.status_code == 403
    back = await client.get(
        f"/api/metering-points/{HOUSE}/consumption",
        params={"from": "2025-01-01", "to": "2025-01-02"},
        headers=anna,
    )
    assert back.status_code == 403
    # Bad input: 400, never 500.
    for params in (
        {"resolution": "week", "date": "2025-01-01"},
        {"resolution": "day", "date": "x"},
        {"resolution": "day"},
    ):
        bad = await client.get(path, params=params, headers=anna)
        assert bad.status_code == 400, (params, bad.text)


async def _point(db, gsrn: str, price_area: str) -> None:  # type: ignore[no-untyped-def]
    async with db.connection() as conn:
        await conn.execute(
            """INSERT INTO metering_points (gsrn, grid_area, price_area, metering_point_type,
                   settlement_method, resolution) VALUES ($1, '344', $2, 'E17', 'D01', 'PT1H')""",
            gsrn, price_area,
        )  # fmt: skip


async def _spot(db, area: str, day: date, first: Decimal) -> None:  # type: ignore[no-untyped-def]
    """24 hourly prices of *day* (a winter day): *first*, then 0.01 DKK/kWh more each hour."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)
    async with db.connection() as conn:
        await conn.executemany(
            """INSERT INTO spot_prices (price_area, start_utc, resolution, dkk_per_kwh, source)
               VALUES ($1, $2, 'PT1H', $3, 'test')""",
            [(area, start + timedelta(hours=h), first + Decimal("0.01") * h) for h in range(24)],
        )


async def test_spot_prices_are_of_the_customers_own_price_area(rig: tuple) -> None:
    client, db = rig
    await _point(db, HOUSE, "DK1")
    await _point(db, FLAT, "DK2")
    await _supply(db, HOUSE, ANNA, date(2024, 1, 1))
    await _supply(db, FLAT, BO, date(2024, 1, 1))
    day = date(2025, 1, 15)
    await _spot(db, "DK1", day, Decimal("0.412345678"))
    await _spot(db, "DK2", day, Decimal("0.900000000"))
    await _spot(db, "DK1", date(2025, 1, 16), Decimal("9.000000000"))  # another day: not shown
    path = "/api/settlement/portal/spot-prices"

    anna = await client.get(path, params={"date": "2025-01-15"}, headers=portal_headers(ANNA))
    assert anna.status_code == 200, anna.text
    body = anna.json()
    assert body["day"] == "2025-01-15"
    assert [a["price_area"] for a in body["areas"]] == ["DK1"]  # not Bo's DK2
    area = body["areas"][0]
    assert area["gsrns"] == [HOUSE] and area["resolution"] == "PT1H"
    assert len(area["prices"]) == 24
    assert area["prices"][0] == {"start": "2025-01-14T23:00:00Z", "dkk_per_kwh": "0.412345678"}
    assert area["prices"][23] == {"start": "2025-01-15T22:00:00Z", "dkk_per_kwh": "0.642345678"}

    bo = (await client.get(path, params={"date": "2025-01-15"}, headers=portal_headers(BO))).json()
    assert [a["price_area"] for a in bo["areas"]] == ["DK2"]
    assert bo["areas"][0]["prices"][1]["dkk_per_kwh"] == "0.910000000"

    # A day without prices yet: the area, no prices. A customer with no metering point: 404.
    later = await client.get(path, params={"date": "2025-02-01"}, headers=portal_headers(ANNA))
    assert later.status_code == 200 and later.json()["areas"][0]["prices"] == []
    nobody = await client.get(
        path, params={"date": "2025-01-15"}, headers=portal_headers(str(uuid.uuid4()))
    )
    assert nobody.status_code == 404
    assert nobody.headers["content-type"].startswith("application/problem+json")
    office = await client.get(path, params={"date": "2025-01-15"}, headers=identity_headers())
    assert office.status_code == 403
    for params in ({"date": "x"}, {}, {"date": "1900-01-01"}):
        bad = await client.get(path, params=params, headers=portal_headers(ANNA))
        assert bad.status_code == 400, (params, bad.text)


async def test_the_portals_dates_document_their_range_and_an_example(rig: tuple) -> None:
    # A date outside 2000-01-02..2100-01-01 is 400 although a JSON Schema date allows it: the
    # document says so and gives a date that is inside (the fuzzer's examples phase uses it).
    client, _ = rig
    document = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/settlement/portal/metering-points/{gsrn}/consumption",
        "/api/settlement/portal/spot-prices",
    ):
        [parameter] = [p for p in document[path]["get"]["parameters"] if p["name"] == "date"]
        assert parameter["description"].endswith(", 2000-01-02..2100-01-01"), parameter
        assert [e["value"] for e in parameter["examples"].values()] == ["2025-01-15"], parameter
        for day, status in (("2000-01-01", 400), ("2000-01-02", 404), ("2100-01-02", 400)):
            answer = await client.get(
                path.replace("{gsrn}", HOUSE),
                params={"date": day, "resolution": "day"},
                headers=portal_headers(ANNA),
            )
            assert answer.status_code == status, (path, day, answer.text)
