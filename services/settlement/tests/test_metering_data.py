"""Settlement's metering data: DataHub's days stored as versions, read back for the engine and
through the consumption API (real PostgreSQL, real HTTP)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
import httpx
import numpy as np
import pytest
from aiokafka.structs import ConsumerRecord
from wattline_contracts import Envelope
from wattline_contracts.datahub import MeasureDataReceivedV1
from wattline_platform.db import Database
from wattline_platform.identifiers import gsrn_with_check_digit
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app
from wattline_settlement.adapters import metering_data
from wattline_settlement.adapters.metering_data import InvalidMeasureDay
from wattline_settlement.bootstrap import SPEC, SettlementSettings, build
from wattline_settlement.handlers import metering

HOUSE = gsrn_with_check_digit("57131310000000001")
FLAT = gsrn_with_check_digit("57131310000000002")
SHOP = gsrn_with_check_digit("57131310000000003")
STRANGER = gsrn_with_check_digit("57131310000000099")

SPRING_FORWARD = date(2025, 3, 30)  # 23 hours
FALL_BACK = date(2025, 10, 26)  # 25 hours


def hours(day: date) -> int:
    return {SPRING_FORWARD: 23, FALL_BACK: 25}.get(day, 24)


def profile(n: int, base: str = "0.100") -> list[Decimal | None]:
    """A household day: position p has (p + 1) x base kWh."""
    return [Decimal(base) * (p + 1) for p in range(n)]


def measure(
    gsrn: str,
    day: date,
    quantities: Sequence[Decimal | None],
    qualities: Sequence[str | None] | str = "A04",
    *,
    resolution: str = "PT1H",
    original: str | None = None,
) -> MeasureDataReceivedV1:
    if isinstance(qualities, str):
        qualities = [qualities if q is not None else "A02" for q in quantities]
    return MeasureDataReceivedV1(
        datahub_message_id=str(uuid.uuid4()),
        transaction_id=str(uuid.uuid4()),
        original_transaction_id=original,
        gsrn=gsrn,
        metering_point_type="E17",
        local_date=day,
        resolution=resolution,  # type: ignore[arg-type]
        quantities_kwh=list(quantities),
        qualities=list(qualities),
    )


def hourly(
    gsrn: str, day: date, base: str = "0.100", quality: str = "A04"
) -> MeasureDataReceivedV1:
    return measure(gsrn, day, profile(hours(day), base), quality)


def envelope(event: MeasureDataReceivedV1) -> Envelope:
    return Envelope.wrap(event, key=event.gsrn, producer="datahub", correlation_id="test")


async def deliver(db: Database, *events: MeasureDataReceivedV1) -> None:
    """DataHub's days arriving in one consumer batch (one transaction)."""
    async with db.transaction() as tx:
        await metering.on_measure_data(tx, [(e, envelope(e)) for e in events])


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days)]


# -- the store ---------------------------------------------------------------------------------
async def test_a_batch_keeps_every_version_and_a_correction_comes_after(
    make_schema_db: SchemaFactory,
) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    day, other = date(2025, 1, 14), date(2025, 1, 15)
    estimated = hourly(HOUSE, day, "0.100", "A03")
    first_fix = hourly(HOUSE, day, "0.110", "A04")
    # One batch: the estimate, another day, and a correction of the estimate.
    await deliver(db, estimated, hourly(HOUSE, other), first_fix)
    # A later batch: DataHub corrects the day once more.
    second_fix = measure(
        HOUSE, day, [Decimal("0.125")] * 24, "A04", original=first_fix.transaction_id
    )
    await deliver(db, second_fix)

    async with db.connection() as conn:
        versions = await metering_data.day_versions(conn, HOUSE, day)
        latest = await metering_data.latest_days(conn, [HOUSE, FLAT], day, other + timedelta(1))
        changes = await metering_data.changed_since(conn, 0)
        after_first_batch = await metering_data.changed_since(conn, changes[2].id)
        limited = await metering_data.changed_since(conn, 0, limit=2)

    assert [v.version for v in versions] == [1, 2, 3]
    before, after = versions[0], versions[1]
    assert before.qualities == ("A03",) * 24 and after.qualities == ("A04",) * 24
    assert before.wh[:3] == (100, 200, 300) and after.wh[:3] == (110, 220, 330)
    assert sum(v for v in after.wh if v is not None) == 33_000  # 0.110 x (1 + ... + 24) kWh
    assert versions[2].wh == (125,) * 24
    assert versions[2].original_transaction_id == first_fix.transaction_id
    assert versions[0].datahub_message_id == estimated.datahub_message_id
    assert versions[0].received_at is not None

    assert set(latest) == {HOUSE}  # FLAT has no data
    assert latest[HOUSE][day].version == 3 and latest[HOUSE][day].wh == (125,) * 24
    assert latest[HOUSE][other].version == 1 and latest[HOUSE][other].resolution == "PT1H"

    # Ids follow arrival: the estimate, the other day, the first fix, the second fix.
    assert [(c.local_date, c.version) for c in changes] == [
        (day, 1),
        (other, 1),
        (day, 2),
        (day, 3),
    ]
    assert [c.id for c in changes] == sorted(c.id for c in changes)
    assert [c.id for c in after_first_batch] == [changes[3].id]
    assert len(limited) == 2 and limited == changes[:2]


async def test_dst_days_have_23_and_25_hours_92_and_100_quarters(
    make_schema_db: SchemaFactory,
) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    await deliver(
        db,
        hourly(HOUSE, SPRING_FORWARD),
        hourly(HOUSE, FALL_BACK),
        measure(FLAT, SPRING_FORWARD, [Decimal("0.025")] * 92, resolution="PT15M"),
        measure(FLAT, FALL_BACK, [Decimal("0.025")] * 100, resolution="PT15M"),
    )
    async with db.connection() as conn:
        spring = await metering_data.latest_days(conn, [HOUSE, FLAT], SPRING_FORWARD, FALL_BACK)
        fall = await metering_data.latest_days(
            conn, [HOUSE, FLAT], FALL_BACK, FALL_BACK + timedelta(1)
        )
    assert len(spring[HOUSE][SPRING_FORWARD].wh) == 23
    assert len(fall[HOUSE][FALL_BACK].wh) == 25
    assert len(spring[FLAT][SPRING_FORWARD].wh) == 92
    assert len(fall[FLAT][FALL_BACK].wh) == 100
    assert sum(fall[FLAT][FALL_BACK].wh) == 2_500  # type: ignore[arg-type]


async def test_a_day_that_does_not_add_up_is_refused(make_schema_db: SchemaFactory) -> None:
    refused = {
        "24 hours on the spring-forward day": measure(HOUSE, SPRING_FORWARD, profile(24), "A04"),
        "96 quarters on the fall-back day": measure(
            HOUSE, FALL_BACK, profile(96), "A04", resolution="PT15M"
        ),
        "fewer qualities than values": measure(HOUSE, date(2025, 1, 1), profile(24), ["A04"] * 23),
        "an unknown quality": measure(HOUSE, date(2025, 1, 1), profile(24), "Z99"),
        "a fraction of a Wh": measure(
            HOUSE, date(2025, 1, 1), [Decimal("0.0005"), *profile(23)], "A04"
        ),
    }
    for why, event in refused.items():
        with pytest.raises(InvalidMeasureDay):
            metering_data.measure_day(event, uuid.uuid4())
            pytest.fail(why)
    # The database refuses a wrong day too, whoever writes it.
    db = await make_schema_db(SPEC.migrations_dir)
    bad = metering_data.MeasureDay(
        HOUSE, date(2025, 1, 1), "PT1H", (1,) * 30, (4,) * 30, "m", "t", None, uuid.uuid4()
    )
    with pytest.raises(asyncpg.CheckViolationError):
        async with db.transaction() as tx:
            await metering_data.store(tx, [bad])


async def test_missing_values_are_null_not_zero(make_schema_db: SchemaFactory) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    day = date(2025, 2, 3)
    quantities = profile(24)
    quantities[5] = None
    await deliver(db, measure(HOUSE, day, quantities))
    async with db.connection() as conn:
        stored = (await metering_data.latest_days(conn, [HOUSE], day, day + timedelta(1)))[HOUSE]
    assert stored[day].wh[5] is None and stored[day].qualities[5] == "A02"
    assert stored[day].wh[4] == 500


async def test_the_staging_table_is_empty_after_each_commit(make_schema_db: SchemaFactory) -> None:
    """Nothing vacuums a session's temporary table: rows left behind would slow every load."""
    db = await make_schema_db(SPEC.migrations_dir)
    days = [
        metering_data.measure_day(hourly(HOUSE, date(2025, 4, d)), uuid.uuid4()) for d in (1, 2)
    ]
    async with db.connection() as conn:
        for day in days:
            async with conn.transaction():
                await metering_data.store(conn, [day])
            size = await conn.fetchval("SELECT pg_relation_size('pg_temp.metering_day_staging')")
            assert size == 0
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():
                await metering_data.store(
                    conn, [days[0], replace(days[1], wh=(1,) * 30, qualities=(4,) * 30)]
                )
        async with conn.transaction():  # a rolled-back load leaves nothing for the next one
            stored = await metering_data.store(conn, [days[1]])
        assert [c.version for c in stored] == [2]


async def test_month_partitions_are_created_across_a_month_boundary(
    make_schema_db: SchemaFactory,
) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    await deliver(db, hourly(HOUSE, date(2025, 1, 31)), hourly(HOUSE, date(2025, 2, 1)))
    await deliver(db, hourly(FLAT, date(2025, 2, 28)), hourly(FLAT, date(2025, 3, 1)))
    partitions = await db.fetch(
        """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'metering_data'::regclass ORDER BY c.relname"""
    )
    assert [p["relname"] for p in partitions] == [
        "metering_data_2025_01",
        "metering_data_2025_02",
        "metering_data_2025_03",
    ]
    assert partitions[1]["bound"] == "FOR VALUES FROM ('2025-02-01') TO ('2025-03-01')"
    counts = await db.fetch(
        "SELECT tableoid::regclass::text AS part, count(*) AS n FROM metering_data GROUP BY 1"
    )
    assert {r["part"]: r["n"] for r in counts} == {
        "metering_data_2025_01": 1,
        "metering_data_2025_02": 2,
        "metering_data_2025_03": 1,
    }
    # Each partition has the parent's indexes (the primary key, the BRIN on id and the gaps).
    indexed = await db.fetch(
        """SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index
           WHERE indrelid = 'metering_data_2025_03'::regclass"""
    )
    defs = sorted(r["def"] for r in indexed)
    assert len(defs) == 3
    assert any("USING brin (id)" in d for d in defs)
    assert any("WHERE ((get_byte(payload, 0) & 1) = 1)" in d for d in defs)


async def test_writers_creating_the_same_partition_at_once_both_succeed(
    make_schema_db: SchemaFactory,
) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    day = date(2026, 7, 1)

    async def create() -> str:
        async with db.transaction() as tx:
            name = await tx.fetchval("SELECT metering_data_partition($1)::text", day)
            await asyncio.sleep(0.2)  # hold the first one's lock while the others arrive
            return str(name)

    assert await asyncio.gather(*(create() for _ in range(4))) == ["metering_data_2026_07"] * 4
    # A reader of another month is not held up by a transaction that just made a partition.
    await deliver(db, hourly(HOUSE, date(2026, 6, 30)))
    async with db.transaction() as tx:
        await tx.fetchval("SELECT metering_data_partition('2026-08-01')")
        async with db.connection() as reader:
            await reader.execute("SET lock_timeout = '1s'")
            seen = await metering_data.latest_days(
                reader, [HOUSE], date(2026, 6, 1), date(2026, 9, 1)
            )
    assert list(seen[HOUSE]) == [date(2026, 6, 30)]


async def test_a_consumer_batch_is_one_load_with_consecutive_versions(
    make_schema_db: SchemaFactory, postgres_dsn: str
) -> None:
    """Through the platform consumer: the batch's measure data reach the handler together."""
    service = build(SettlementSettings(database_url=postgres_dsn))
    db = await make_schema_db(SPEC.migrations_dir)
    consumer = service.consumer
    assert consumer is not None
    consumer.db = db
    calls: list[int] = []
    original = consumer.batch_routes[(MeasureDataReceivedV1.TYPE, 1)]

    async def counting(tx: asyncpg.Connection, items: Sequence[tuple[object, Envelope]]) -> None:
        calls.append(len(items))
        await original(tx, items)  # type: ignore[arg-type]

    consumer.batch_routes[(MeasureDataReceivedV1.TYPE, 1)] = counting
    day = date(2025, 5, 5)
    events = [hourly(HOUSE, day), hourly(FLAT, day), hourly(HOUSE, day, "0.2", "A04")]
    envelopes = [envelope(e) for e in events]
    records = [
        ConsumerRecord(
            MeasureDataReceivedV1.topic(),
            0,
            offset,
            0,
            0,
            e.gsrn.encode(),
            env.model_dump_json().encode(),
            None,
            0,
            0,
            (),
        )
        for offset, (e, env) in enumerate(zip(events, envelopes, strict=True))
    ]
    await consumer.process(records)
    await consumer.process(records[:1])  # delivered again: the inbox skips it
    assert calls == [3]
    async with db.connection() as conn:
        house = await metering_data.day_versions(conn, HOUSE, day)
        flat = await metering_data.day_versions(conn, FLAT, day)
        inbox = await conn.fetchval("SELECT count(*) FROM inbox")
    assert [(v.version, v.wh[0]) for v in house] == [(1, 100), (2, 200)]
    assert [v.version for v in flat] == [1]
    assert inbox == 3


async def test_bulk_matrices_for_a_month_with_a_dst_day(make_schema_db: SchemaFactory) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    march = days_between(date(2025, 3, 1), date(2025, 4, 1))
    events = [hourly(HOUSE, d) for d in march]
    events += [hourly(FLAT, d, "0.200") for d in march if d != date(2025, 3, 10)]  # a day short
    gap = profile(24)
    gap[7] = None
    events.append(measure(FLAT, date(2025, 3, 11), gap))  # and a missing hour
    # SHOP moves to quarter hours on 20 March.
    events += [hourly(SHOP, d) for d in march if d < date(2025, 3, 20)]
    events += [
        measure(SHOP, d, [Decimal("0.010")] * (hours(d) * 4), resolution="PT15M")
        for d in march
        if d >= date(2025, 3, 20)
    ]
    for start in range(0, len(events), 40):
        await deliver(db, *events[start : start + 40])
    await deliver(db, hourly(HOUSE, date(2025, 3, 5), "0.300"))  # a correction

    async with db.connection() as conn:
        bulk = await metering_data.bulk_latest(
            conn, [SHOP, FLAT, HOUSE, STRANGER], date(2025, 3, 1), date(2025, 4, 1)
        )
        latest = await metering_data.latest_days(
            conn, [SHOP, FLAT, HOUSE], date(2025, 3, 1), date(2025, 4, 1)
        )
        chunked = await metering_data.bulk_latest(
            conn, [SHOP, FLAT, STRANGER, HOUSE], date(2025, 3, 1), date(2025, 4, 1), chunk_size=1
        )

    hourly_ = bulk["PT1H"]
    assert hourly_.gsrns == (SHOP, FLAT, HOUSE)  # in the order asked; STRANGER has no data
    assert hourly_.wh.shape == (3, 743) and hourly_.wh.dtype == np.int64  # 31 x 24 - 1
    assert hourly_.day_columns[30] - hourly_.day_columns[29] == 23  # 30 March
    house, flat, shop = (hourly_.index[g] for g in (HOUSE, FLAT, SHOP))
    # HOUSE: 30 days of 30 kWh (1 + ... + 24 tenths), 30 March 27.6 kWh, 5 March corrected to 90.
    assert hourly_.wh[house].sum() == 29 * 30_000 + 27_600 + 90_000
    assert not hourly_.missing[house].any() and hourly_.days_present[house].all()
    # FLAT: 10 March absent, one hour of 11 March missing.
    assert not hourly_.days_present[flat, 9] and hourly_.days_present[flat, 10]
    ten, eleven = hourly_.day_columns[9], hourly_.day_columns[10]
    assert hourly_.missing[flat, ten:eleven].all()
    assert hourly_.missing[flat].sum() == 24 + 1 and hourly_.missing[flat, eleven + 7]
    assert hourly_.wh[flat, eleven + 7] == 0 and hourly_.wh[flat, eleven + 8] == 900
    # SHOP: hourly until 19 March, then in the quarter-hour matrix.
    assert hourly_.days_present[shop].sum() == 19
    quarters = bulk["PT15M"]
    assert quarters.gsrns == (SHOP,) and quarters.wh.shape == (1, 743 * 4)
    assert quarters.days_present[0].sum() == 12 and quarters.wh.sum() == 10 * (12 * 96 - 4)
    # The same numbers as the day-by-day read.
    for gsrn in (HOUSE, FLAT):
        for d, day in latest[gsrn].items():
            k = (d - date(2025, 3, 1)).days
            row = hourly_.wh[
                hourly_.index[gsrn], hourly_.day_columns[k] : hourly_.day_columns[k + 1]
            ]
            assert list(row) == [v or 0 for v in day.wh]
    assert hourly_.max_id[house] == max(d.id for d in latest[HOUSE].values())
    # Read in chunks of one metering point: the same matrices.
    assert chunked["PT1H"].gsrns == hourly_.gsrns
    for name in ("wh", "missing", "days_present", "max_id"):
        assert np.array_equal(getattr(chunked["PT1H"], name), getattr(hourly_, name)), name
    assert np.array_equal(chunked["PT15M"].wh, quarters.wh)


# -- the consumption API -----------------------------------------------------------------------
@dataclass
class Api:
    client: httpx.AsyncClient
    db: Database

    async def get(self, gsrn: str, **params: str) -> httpx.Response:
        return await self.client.get(f"/api/metering-points/{gsrn}/consumption", params=params)

    async def ok(self, gsrn: str, **params: str) -> dict[str, object]:
        response = await self.get(gsrn, **params)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body


@pytest.fixture
async def api(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[Api]:
    service = build(SettlementSettings(database_url=postgres_dsn))
    service.db = await make_schema_db(SPEC.migrations_dir)
    service.uses_broker = False
    service.background.clear()
    async with (
        serve_app(service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
    ):
        yield Api(client, service.db)


JANUARY = days_between(date(2025, 1, 1), date(2025, 2, 1))


async def test_a_month_of_hourly_data_at_every_resolution(api: Api) -> None:
    await deliver(api.db, *(hourly(HOUSE, d) for d in JANUARY))
    await deliver(api.db, hourly(HOUSE, date(2025, 2, 1), "0.500"))  # outside the month
    month = {"from": "2025-01-01", "to": "2025-02-01"}

    by_hour = await api.ok(HOUSE, **month)
    assert by_hour["resolution"] == "PT1H"  # the stored resolution
    assert (by_hour["gsrn"], by_hour["from"], by_hour["to"]) == (HOUSE, "2025-01-01", "2025-02-01")
    points = by_hour["points"]
    assert isinstance(points, list) and len(points) == 744
    assert points[0] == {"start": "2024-12-31T23:00:00Z", "kwh": "0.100", "quality": "A04",
                         "missing_intervals": 0}  # fmt: skip
    assert points[23] == {"start": "2025-01-01T22:00:00Z", "kwh": "2.400", "quality": "A04",
                          "missing_intervals": 0}  # fmt: skip
    assert points[-1]["start"] == "2025-01-31T22:00:00Z"
    # 31 days x 0.1 x (1 + ... + 24) kWh
    assert by_hour["total_kwh"] == "930.000" and by_hour["missing_points"] == 0
    assert (by_hour["complete"], by_hour["missing"], by_hour["missing_intervals"]) == (True, [], 0)

    by_day = await api.ok(HOUSE, **month, resolution="P1D")
    assert len(by_day["points"]) == 31  # type: ignore[arg-type]
    assert by_day["points"][0] == {  # type: ignore[index]
        "start": "2024-12-31T23:00:00Z",
        "kwh": "30.000",
        "quality": "A04",
        "missing_intervals": 0,
    }
    by_month = await api.ok(HOUSE, **month, resolution="P1M")
    assert by_month["points"] == [
        {
            "start": "2024-12-31T23:00:00Z",
            "kwh": "930.000",
            "quality": "A04",
            "missing_intervals": 0,
        }
    ]
    assert by_month["total_kwh"] == "930.000"

    refused = await api.get(HOUSE, **month, resolution="PT15M")
    assert refused.status_code == 400
    assert refused.json()["type"].endswith("/resolution-unavailable")

    part = await api.ok(HOUSE, **{"from": "2025-01-15", "to": "2025-02-02"}, resolution="P1M")
    assert [(p["start"], p["kwh"], p["quality"]) for p in part["points"]] == [  # type: ignore[union-attr]
        ("2025-01-14T23:00:00Z", "510.000", "A04"),  # 17 days
        ("2025-01-31T23:00:00Z", "150.000", "A04"),  # 0.5 x 300
    ]


async def test_quarter_hours_sum_to_hours_days_and_months_across_dst(api: Api) -> None:
    # 28 March - 1 April 2025 in quarter hours: 30 March has 92 quarters.
    days = days_between(date(2025, 3, 28), date(2025, 4, 2))
    await deliver(
        api.db,
        *(measure(FLAT, d, profile(hours(d) * 4, "0.001"), resolution="PT15M") for d in days),
    )
    period = {"from": "2025-03-29", "to": "2025-04-01"}
    quarters = await api.ok(FLAT, **period)
    assert quarters["resolution"] == "PT15M"
    assert len(quarters["points"]) == 96 + 92 + 96  # type: ignore[arg-type]
    first = quarters["points"][0]  # type: ignore[index]
    assert (first["start"], first["kwh"]) == ("2025-03-28T23:00:00Z", "0.001")

    by_hour = await api.ok(FLAT, **period, resolution="PT1H")
    points = by_hour["points"]
    assert isinstance(points, list) and len(points) == 24 + 23 + 24
    # Hour 1 of a day: quarters 1..4 = 0.001 + 0.002 + 0.003 + 0.004.
    assert (points[0]["start"], points[0]["kwh"]) == ("2025-03-28T23:00:00Z", "0.010")
    # 30 March starts 23:00Z (winter) and its third hour starts 01:00Z = 03:00 summer time.
    assert points[24]["start"] == "2025-03-29T23:00:00Z"
    assert points[26]["start"] == "2025-03-30T01:00:00Z"
    assert points[47]["start"] == "2025-03-30T22:00:00Z"  # 31 March, summer time

    by_day = await api.ok(FLAT, **period, resolution="P1D")
    # A 96-quarter day: 0.001 x (1 + ... + 96) = 4.656; a 92-quarter day 0.001 x 4278.
    assert [p["kwh"] for p in by_day["points"]] == ["4.656", "4.278", "4.656"]  # type: ignore[union-attr]
    assert [p["start"] for p in by_day["points"]] == [  # type: ignore[union-attr]
        "2025-03-28T23:00:00Z",
        "2025-03-29T23:00:00Z",
        "2025-03-30T22:00:00Z",
    ]
    assert by_day["total_kwh"] == by_hour["total_kwh"] == quarters["total_kwh"] == "13.590"

    months = await api.ok(FLAT, **{"from": "2025-03-28", "to": "2025-04-02"}, resolution="P1M")
    assert [(p["start"], p["kwh"]) for p in months["points"]] == [  # type: ignore[union-attr]
        ("2025-03-27T23:00:00Z", "18.246"),
        ("2025-03-31T22:00:00Z", "4.656"),
    ]


async def test_the_fall_back_day_has_25_hours(api: Api) -> None:
    await deliver(api.db, hourly(HOUSE, FALL_BACK, "1.000"))
    body = await api.ok(HOUSE, **{"from": "2025-10-26", "to": "2025-10-27"})
    points = body["points"]
    assert isinstance(points, list) and len(points) == 25
    assert [p["start"] for p in points[1:4]] == [
        "2025-10-25T23:00:00Z",
        "2025-10-26T00:00:00Z",  # 02:00 summer time
        "2025-10-26T01:00:00Z",  # 02:00 again, winter time
    ]
    assert body["total_kwh"] == "325.000"  # 1 + ... + 25


async def test_missing_values_and_worst_quality(api: Api) -> None:
    gap = profile(24)
    gap[2] = None
    estimated = ["A04"] * 24
    estimated[10] = "A03"
    await deliver(
        api.db,
        measure(HOUSE, date(2025, 1, 1), gap),
        measure(HOUSE, date(2025, 1, 2), profile(24), estimated),
        # 3 January never arrived; 4 January has a value without a quality
        measure(HOUSE, date(2025, 1, 4), profile(24), [None] * 24),
    )
    period = {"from": "2025-01-01", "to": "2025-01-05"}
    by_hour = await api.ok(HOUSE, **period)
    points = by_hour["points"]
    assert isinstance(points, list)
    assert points[2] == {"start": "2025-01-01T01:00:00Z", "kwh": None, "quality": "A02",
                         "missing_intervals": 1}  # fmt: skip
    assert points[34] == {"start": "2025-01-02T09:00:00Z", "kwh": "1.100", "quality": "A03",
                          "missing_intervals": 0}  # fmt: skip
    assert all(p == {**p, "kwh": None, "quality": "A02"} for p in points[48:72])
    assert points[72]["quality"] == "A04"
    # What is there, counted: 30.000 - 0.300 on the 1st, 30.000 on the 2nd and the 4th.
    assert by_hour["total_kwh"] == "89.700" and by_hour["missing_points"] == 25
    missing = [
        {"start": "2025-01-01T01:00:00Z", "end": "2025-01-01T02:00:00Z"},
        {"start": "2025-01-02T23:00:00Z", "end": "2025-01-03T23:00:00Z"},  # the 3rd, local
    ]
    assert (by_hour["complete"], by_hour["missing_intervals"]) == (False, 25)
    assert by_hour["missing"] == missing

    by_day = await api.ok(HOUSE, **period, resolution="P1D")
    assert [  # type: ignore[union-attr]
        (p["kwh"], p["quality"], p["missing_intervals"]) for p in by_day["points"]
    ] == [
        ("29.700", "A05", 1),  # incomplete: 23 of 24 hours
        ("30.000", "A03", 0),
        (None, "A02", 24),
        ("30.000", "A04", 0),
    ]
    assert by_day["missing_points"] == 2 and by_day["total_kwh"] == "89.700"
    assert by_day["missing"] == missing
    by_month = await api.ok(HOUSE, **period, resolution="P1M")
    assert by_month["points"] == [
        {
            "start": "2024-12-31T23:00:00Z",
            "kwh": "89.700",
            "quality": "A05",
            "missing_intervals": 25,
        }
    ]
    assert (by_month["total_kwh"], by_month["missing"]) == ("89.700", missing)

    # A period with no data at all for a metering point that has data: all missing.
    empty = await api.ok(HOUSE, **{"from": "2025-06-01", "to": "2025-06-02"})
    assert empty["resolution"] == "PT1H" and empty["missing_points"] == 24
    assert empty["total_kwh"] is None  # nothing at all: not 0.000
    assert empty["missing"] == [{"start": "2025-05-31T22:00:00Z", "end": "2025-06-01T22:00:00Z"}]


async def test_a_month_with_ten_days_of_data_sums_those_and_names_the_other_21(api: Api) -> None:
    # Data only for 5-14 January, a different amount each day: day d has d x 0.001 x (1..24).
    sent = [measure(HOUSE, d, profile(24, f"0.{d.day:03d}")) for d in JANUARY[4:14]]
    await deliver(api.db, *sent)
    wh = sum(int(q * 1000) for e in sent for q in e.quantities_kwh if q is not None)
    assert wh == 28_500  # 0.300 x (5 + ... + 14) kWh
    month = {"from": "2025-01-01", "to": "2025-02-01"}
    by_month = await api.ok(HOUSE, **month, resolution="P1M")
    missing = [
        {"start": "2024-12-31T23:00:00Z", "end": "2025-01-04T23:00:00Z"},  # 1-4 January
        {"start": "2025-01-14T23:00:00Z", "end": "2025-01-31T23:00:00Z"},  # 15-31 January
    ]
    assert by_month["points"] == [
        {"start": "2024-12-31T23:00:00Z", "kwh": "28.500", "quality": "A05",
         "missing_intervals": 21 * 24},
    ]  # fmt: skip
    assert (by_month["total_kwh"], by_month["complete"], by_month["missing"]) == (
        "28.500",
        False,
        missing,
    )
    assert (by_month["interval_resolution"], by_month["missing_intervals"]) == ("PT1H", 504)

    by_day = await api.ok(HOUSE, **month, resolution="P1D")
    kwh = [p["kwh"] for p in by_day["points"]]  # type: ignore[union-attr]
    assert kwh[:4] == [None] * 4 and kwh[14:] == [None] * 17
    assert kwh[4:14] == [f"{Decimal('0.3') * d:.3f}" for d in range(5, 15)]  # 1.500 ... 4.200
    assert by_day["total_kwh"] == "28.500" and by_day["missing_points"] == 21
    assert by_day["missing"] == missing
    by_hour = await api.ok(HOUSE, **month)
    assert (by_hour["total_kwh"], by_hour["missing_points"]) == ("28.500", 504)


async def test_a_partial_october_counts_the_25_hour_day_and_a_march_quarter_gap(api: Api) -> None:
    # October: hourly data for 1-10 October only; the missing 21 days include the 25-hour 26th.
    await deliver(api.db, *(hourly(HOUSE, date(2025, 10, d), "0.010") for d in range(1, 11)))
    october = await api.ok(HOUSE, **{"from": "2025-10-01", "to": "2025-11-01"}, resolution="P1M")
    assert october["total_kwh"] == "30.000"  # 10 x 0.010 x (1 + ... + 24)
    assert october["missing_intervals"] == 20 * 24 + 25
    # 11 October starts 22:00Z (summer time), 1 November 23:00Z (winter time).
    assert october["missing"] == [{"start": "2025-10-10T22:00:00Z", "end": "2025-10-31T23:00:00Z"}]
    assert october["points"][0]["start"] == "2025-09-30T22:00:00Z"  # type: ignore[index]

    # March in quarter hours for 29-31 March (the 30th has 92), one quarter missing on the 31st.
    days = days_between(date(2025, 3, 29), date(2025, 4, 1))
    values = {d: profile(hours(d) * 4, "0.001") for d in days}
    values[date(2025, 3, 31)][40] = None  # 10:00-10:15 local summer time = 08:00Z
    await deliver(api.db, *(measure(FLAT, d, v, resolution="PT15M") for d, v in values.items()))
    march = await api.ok(FLAT, **{"from": "2025-03-01", "to": "2025-04-01"}, resolution="P1M")
    # 0.001 x ((1 + ... + 96) x 2 + (1 + ... + 92)) - 0.041 = 9.312 + 4.278 - 0.041
    assert march["total_kwh"] == "13.549"
    assert (march["interval_resolution"], march["missing_intervals"]) == ("PT15M", 28 * 96 + 1)
    assert march["missing"] == [
        {"start": "2025-02-28T23:00:00Z", "end": "2025-03-28T23:00:00Z"},  # 1-28 March
        {"start": "2025-03-31T08:00:00Z", "end": "2025-03-31T08:15:00Z"},
    ]
    # Asked in hours, the quarter's hour is incomplete: its 3 quarters count, it says A05.
    hours_31 = await api.ok(FLAT, **{"from": "2025-03-31", "to": "2025-04-01"}, resolution="PT1H")
    point = hours_31["points"][10]  # type: ignore[index]
    assert point == {
        "start": "2025-03-31T08:00:00Z",
        "kwh": "0.129",
        "quality": "A05",
        "missing_intervals": 1,
    }  # fmt: skip (0.042 + 0.043 + 0.044)
    assert hours_31["total_kwh"] == "4.615"  # 4.656 - 0.041


async def test_a_correction_is_what_the_api_shows(api: Api) -> None:
    day = date(2025, 1, 20)
    await deliver(api.db, hourly(HOUSE, day, "0.100", "A03"))
    await deliver(api.db, hourly(HOUSE, day, "0.200", "A04"))
    body = await api.ok(HOUSE, **{"from": "2025-01-20", "to": "2025-01-21"}, resolution="P1D")
    assert body["points"] == [
        {"start": "2025-01-19T23:00:00Z", "kwh": "60.000", "quality": "A04", "missing_intervals": 0}
    ]


async def test_bad_parameters_are_problems(api: Api) -> None:
    await deliver(api.db, hourly(HOUSE, date(2025, 1, 1)))
    cases = {
        "invalid-period": [
            {"from": "2025-13-01", "to": "2025-02-01"},
            {"from": "01-01-2025", "to": "2025-02-01"},
            {"from": "20250101", "to": "2025-02-01"},
            {"to": "2025-02-01"},
            {"from": "2025-02-01", "to": "2025-02-01"},
            {"from": "2025-02-01", "to": "2025-01-01"},
        ],
        "period-too-long": [{"from": "2024-01-01", "to": "2025-02-05"}],
        "invalid-resolution": [{"from": "2025-01-01", "to": "2025-02-01", "resolution": "PT5M"}],
    }
    for slug, variants in cases.items():
        for params in variants:
            response = await api.get(HOUSE, **params)
            assert response.status_code == 400, (params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            problem = json.loads(response.text)
            assert problem["type"] == f"https://wattline.dev/problems/{slug}", params
            assert problem["status"] == 400
    ok = await api.get(HOUSE, **{"from": "2024-01-01", "to": "2025-02-04"})  # 400 days
    assert ok.status_code == 200
    month = {"from": "2025-01-01", "to": "2025-02-01"}
    invalid = await api.get(HOUSE[:-1] + str((int(HOUSE[-1]) + 1) % 10), **month)  # check digit
    assert invalid.status_code == 400 and invalid.json()["type"].endswith("/invalid-gsrn")
    unknown = await api.get(STRANGER, **month)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["type"].endswith("/metering-data-not-found")


async def test_a_stored_batch_names_the_datahub_messages_correlation_ids(
    make_schema_db: SchemaFactory,
) -> None:
    from structlog.testing import capture_logs

    db = await make_schema_db(SPEC.migrations_dir)
    first, second = hourly(HOUSE, date(2025, 1, 15)), hourly(FLAT, date(2025, 1, 15))
    items = [
        (first, Envelope.wrap(first, key=HOUSE, producer="datahub", correlation_id="msg-a")),
        (second, Envelope.wrap(second, key=FLAT, producer="datahub", correlation_id="msg-b")),
    ]
    with capture_logs() as logs:
        async with db.transaction() as tx:
            await metering.on_measure_data(tx, items)
    [stored] = [e for e in logs if e["event"] == "measure_data_stored"]
    assert (stored["days"], stored["correlation_ids"]) == (2, ["msg-a", "msg-b"])
    assert stored["datahub_message_ids"] == sorted(
        [first.datahub_message_id, second.datahub_message_id]
    )


# -- the packed format and its migration --------------------------------------------------------
OLD_ROWS = [  # (gsrn, day, version, resolution, wh, qualities, transaction id, original)
    (
        HOUSE,
        date(2025, 1, 14),
        1,
        "PT1H",
        [100 * (p + 1) for p in range(24)],
        [3] * 24,
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        None,
    ),
    (
        HOUSE,
        date(2025, 1, 14),
        2,
        "PT1H",
        [None] + [70_000] * 22 + [-5],
        [2] + [4] * 23,
        "TX-not-a-uuid-7",
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    ),
    (
        FLAT,
        SPRING_FORWARD,
        1,
        "PT1H",
        [0] * 23,
        [None] * 23,
        "0b4e28ba-2fa1-11d2-883f-0016d3cca427",
        None,
    ),
    (
        SHOP,
        FALL_BACK,
        1,
        "PT15M",
        [p for p in range(99)] + [None],
        [4] * 99 + [2],
        "2b4e28ba-2fa1-11d2-883f-0016d3cca427",
        None,
    ),
]


async def test_days_stored_in_the_old_format_read_back_identically_after_the_migration(
    make_schema_db: SchemaFactory,
) -> None:
    from wattline_platform import migrations

    every = migrations.load(migrations.PLATFORM_SQL, "platform") + migrations.load(
        SPEC.migrations_dir, "service"
    )
    old = [m for m in every if m.name.startswith("service/") and m.name < "service/0007"]
    db = await make_schema_db(old)
    async with db.connection() as conn:
        for gsrn, day, version, resolution, wh, qualities, tx, original in OLD_ROWS:
            await conn.execute("SELECT metering_data_partition($1)", day)
            await conn.execute(
                """INSERT INTO metering_data (gsrn, local_date, version, resolution, wh,
                       qualities, datahub_message_id, transaction_id, original_transaction_id,
                       event_id)
                   VALUES ($1, $2, $3, $4, $5, $6, 'MSG-' || $1, $7, $8, gen_random_uuid())""",
                gsrn,
                day,
                version,
                resolution,
                wh,
                qualities,
                tx,
                original,
            )
        ids = await conn.fetch("SELECT gsrn, local_date, version, id FROM metering_data")
        await migrations.apply(conn, db.schema, every)
        house = await metering_data.day_versions(conn, HOUSE, date(2025, 1, 14))
        flat = await metering_data.day_versions(conn, FLAT, SPRING_FORWARD)
        shop = await metering_data.day_versions(conn, SHOP, FALL_BACK)
        # The SQL packing is the Python packing, byte for byte.
        for gsrn, day, version, resolution, wh, qualities, *_ in OLD_ROWS:
            stored = await conn.fetchval(
                "SELECT payload FROM metering_data WHERE gsrn = $1 AND local_date = $2"
                " AND version = $3",
                int(gsrn),
                day,
                version,
            )
            assert stored == metering_data.pack(resolution, wh, qualities)  # type: ignore[arg-type]
        series = await metering_data.bulk_latest(
            conn, [HOUSE, SHOP], date(2025, 1, 1), date(2025, 11, 1)
        )
        # A day stored after the migration gets an id after the old ones.
        await deliver(db, hourly(HOUSE, date(2025, 1, 15)))
        [newest] = await metering_data.changed_since(conn, max(r["id"] for r in ids))

    by_key = {(r["gsrn"], r["local_date"], r["version"]): r["id"] for r in ids}
    for got, (gsrn, day, version, resolution, wh, qualities, tx, original) in zip(
        [*house, *flat, *shop], OLD_ROWS, strict=True
    ):
        assert (got.gsrn, got.local_date, got.version, got.resolution) == (
            gsrn,
            day,
            version,
            resolution,
        )
        assert got.wh == tuple(wh)
        assert got.qualities == tuple(None if q is None else f"A0{q}" for q in qualities)
        assert (got.transaction_id, got.original_transaction_id) == (tx, original)
        assert got.datahub_message_id == f"MSG-{gsrn}"
        assert got.id == by_key[(gsrn, day, version)]
    assert house[1].wh[0] is None and house[1].wh[1] == 70_000 and house[1].wh[-1] == -5
    hourly_series = series["PT1H"]
    row = hourly_series.wh[hourly_series.index[HOUSE]]
    assert row[13 * 24 + 1] == 70_000 and row[13 * 24 + 23] == -5
    assert hourly_series.missing[hourly_series.index[HOUSE], 13 * 24]
    quarters = series["PT15M"]
    assert quarters.wh[0].sum() == sum(range(99))
    assert (newest.gsrn, newest.local_date, newest.version) == (HOUSE, date(2025, 1, 15), 1)


def test_a_packed_day_is_near_its_values() -> None:
    """A household's PT1H day: 24 values in 2 bytes, one quality: 50 bytes for 96 raw."""
    day = metering_data.pack("PT1H", [100 * (p + 1) for p in range(24)], [4] * 24)
    assert len(day) == 1 + 48 + 1
    assert metering_data.unpack(day) == ("PT1H", tuple(100 * (p + 1) for p in range(24)), (4,) * 24)
    big = metering_data.pack("PT15M", [None, 2**31 - 1] + [0] * 94, [None, 6] + [4] * 94)
    assert len(big) == 1 + 96 * 4 + 96
    assert metering_data.unpack(big) == (
        "PT15M",
        (None, 2**31 - 1) + (0,) * 94,
        (None, 6) + (4,) * 94,
    )


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x00",
        b"\x00\x00\x00",
        b"\x10" + b"\x00" * 49,
        b"\x00" * 47,
        b"\x08" + b"\x00" * 50,
    ],
)
async def test_a_payload_that_does_not_add_up_is_refused(
    make_schema_db: SchemaFactory, payload: bytes
) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    async with db.transaction() as tx:
        await tx.execute("SELECT metering_data_partition('2025-01-14')")
        with pytest.raises(asyncpg.CheckViolationError):
            await tx.execute(
                """INSERT INTO metering_data (gsrn, source_id, local_date, version, payload)
                   VALUES (571313100000000012, 1, '2025-01-14', 1, $1)""",
                payload,
            )
