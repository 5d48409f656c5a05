"""Daily generation on a real database: RSM-012, corrections, RSM-014 and their bookkeeping."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from wattline_cim import AggregationDocument, MeasureDataDocument, parse_document
from wattline_platform.db import Database
from wattline_simulator.adapters import store
from wattline_simulator.domain.market import day_plan, point_day
from wattline_simulator.jobs.catch_up import catch_up
from wattline_simulator.testing import Sim

OURS = "5799994000015"


async def _queued(sim: Sim, category: str) -> list[Any]:
    rows: list[Any] = await sim.db.fetch(
        "SELECT message_id, document_type, body, fault FROM queue WHERE category = $1 ORDER BY seq",
        category,
    )
    return rows


async def _documents(sim: Sim, category: str) -> list[Any]:
    return [parse_document(bytes(r["body"])) for r in await _queued(sim, category)]


async def test_each_local_day_is_generated_once(sim: Sim) -> None:
    seeded = await sim.client.post("/sim/seed", json={"metering_points": 1000, "seed": 1})
    assert seeded.json()["added"] == 1000

    # 2025-01-02 (local) ends at 2025-01-02T23:00Z: at noon only 2025-01-01 has passed.
    moved = await sim.client.post("/sim/clock", json={"to": "2025-01-02T12:00:00Z"})
    assert [d["local_date"] for d in moved.json()["generated"]] == ["2025-01-01"]
    again = await sim.client.post("/sim/clock", json={"to": "2025-01-02T12:00:00Z"})
    assert again.json()["generated"] == []
    moved = await sim.client.post("/sim/clock", json={"advance_days": 1})
    assert [d["local_date"] for d in moved.json()["generated"]] == ["2025-01-02"]

    generated = (await sim.client.get("/sim/generated")).json()
    day1, day2 = generated["days"]
    assert day1["by_kind"]["measure"] == {"documents": 20, "series": 1000}  # 50 per document
    assert day1["by_kind"]["correction"] == {"documents": 0, "series": 0}
    assert day1["documents"]["Aggregations"] == 5  # one per grid area
    estimated_day1 = await sim.db.fetchval(
        "SELECT count(*) FROM estimated_series WHERE local_date = '2025-01-01'"
    )
    assert estimated_day1 == 9  # ~1 % of 1000
    assert day2["by_kind"]["correction"] == {"documents": 1, "series": 9}
    assert (day1["start"], day1["end"]) == (
        "2024-12-31T23:00:00+00:00",
        "2025-01-01T23:00:00+00:00",
    )
    # The totals equal what is in the queue.
    counts = await sim.db.fetch("SELECT category, count(*) AS n FROM queue GROUP BY category")
    queued = {r["category"]: r["n"] for r in counts}
    # Wholesale: 6 owners x (D18 + D08) and 1000 points' charge links at 50 per document.
    assert (
        queued
        == generated["documents"]
        == {
            "MeasureData": 41,
            "Aggregations": 10,
            "Wholesale": 12 + 20,
        }
    )
    assert generated["series"] == {"MeasureData": 2009, "Aggregations": 10, "Wholesale": 1012}


async def test_documents_parse_and_aggregates_equal_the_sum_of_measure_data(
    make_sim: Any,
) -> None:
    async with make_sim(series_per_message=40) as sim:
        await sim.client.post(
            "/sim/seed", json={"metering_points": 800, "seed": 3, "pt15m_share": 0.3}
        )
        await sim.client.post("/sim/clock", json={"to": "2025-01-16T00:00:00Z"})  # 15 days
        await sim.db.execute("DELETE FROM queue")
        await sim.client.post("/sim/clock", json={"advance_days": 1})  # 2025-01-16

        points = {
            r["gsrn"]: r
            for r in await sim.db.fetch(
                "SELECT gsrn, grid_area, metering_point_type, settlement_method, resolution"
                " FROM metering_point"
            )
        }
        measure = await _documents(sim, "MeasureData")
        series = [s for doc in measure for s in doc.series if s.original_transaction_id is None]
        assert all(isinstance(d, MeasureDataDocument) for d in measure)
        assert len(series) == 800 and {len(d.series) for d in measure} >= {40}
        assert all(d.receiver_gln == OURS and d.sender_role == "DGL" for d in measure)
        expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 24)
        estimated_hours: dict[str, set[int]] = defaultdict(set)
        for s in series:
            point = points[s.gsrn]
            assert s.resolution == point["resolution"]
            assert len(s.points) == (96 if s.resolution == "PT15M" else 24)
            assert s.start == datetime(2025, 1, 15, 23, tzinfo=UTC)
            assert s.metering_point_type == point["metering_point_type"]
            if (point["metering_point_type"], point["settlement_method"]) != ("E17", "D01"):
                continue
            step = 4 if s.resolution == "PT15M" else 1
            for p in s.points:
                assert p.quantity is not None
                expected[point["grid_area"]][(p.position - 1) // step] += p.quantity
                if p.quality == "A03":
                    estimated_hours[point["grid_area"]].add((p.position - 1) // step)
        assert any(estimated_hours.values())

        aggregations = await _documents(sim, "Aggregations")
        assert sorted(d.series[0].grid_area for d in aggregations) == sorted(expected)
        for doc in aggregations:
            assert isinstance(doc, AggregationDocument)
            (agg,) = doc.series
            assert (agg.energy_supplier_gln, agg.balance_responsible_gln) == (
                OURS,
                "5799994000022",
            )
            assert (agg.metering_point_type, agg.settlement_method) == ("E17", "D01")
            assert [p.quantity for p in agg.points] == expected[agg.grid_area]
            assert {p.position - 1 for p in agg.points if p.quality == "A03"} == (
                estimated_hours[agg.grid_area]
            )
            assert {p.quality for p in agg.points} <= {None, "A03"}
        day = (await sim.client.get("/sim/generated")).json()["days"][-1]
        assert day["local_date"] == "2025-01-16"
        for agg in day["aggregates"]:
            total = sum(expected[agg["grid_area"]], Decimal(0))
            assert Decimal(agg["total_kwh"]) == Decimal(agg["sent_total_kwh"]) == total


async def test_estimates_are_corrected_the_next_day(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 1500, "seed": 1})
    await sim.client.post("/sim/clock", json={"to": "2025-01-01T23:00:00Z"})
    estimated = {
        r["gsrn"]: r
        for r in await sim.db.fetch("SELECT * FROM estimated_series WHERE corrected_on IS NULL")
    }
    assert len(estimated) == 11  # ~1 % of 1,500
    first_day = await _documents(sim, "MeasureData")
    sent = {s.gsrn: s for d in first_day for s in d.series}
    for gsrn, e in estimated.items():
        a03 = [p.position for p in sent[gsrn].points if p.quality == "A03"]
        assert a03 == list(range(e["first_position"], e["last_position"] + 1))
        assert sent[gsrn].transaction_id == e["transaction_id"]
    await sim.db.execute("DELETE FROM queue")

    await sim.client.post("/sim/clock", json={"advance_days": 1})
    corrections = [
        s
        for d in await _documents(sim, "MeasureData")
        for s in d.series
        if s.original_transaction_id is not None
    ]
    assert sorted(s.gsrn for s in corrections) == sorted(estimated)
    plan = day_plan(date(2025, 1, 1))
    changed = 0
    for s in corrections:
        original = sent[s.gsrn]
        assert s.original_transaction_id == original.transaction_id
        assert (s.start, s.end, s.resolution) == (original.start, original.end, original.resolution)
        assert {p.quality for p in s.points} == {"A04"}
        row = await sim.db.fetchrow(
            "SELECT profile, resolution, annual_kwh FROM metering_point WHERE gsrn = $1", s.gsrn
        )
        truth = point_day(s.gsrn, plan, row["profile"], row["resolution"], row["annual_kwh"])
        assert [p.quantity for p in s.points] == [Decimal(v) / 1000 for v in truth.values]
        changed += [p.quantity for p in s.points] != [p.quantity for p in original.points]
    assert changed > 0
    pending = await sim.db.fetchval(
        "SELECT count(*) FROM estimated_series WHERE local_date = '2025-01-01'"
        " AND corrected_on IS NULL"
    )
    assert pending == 0


async def test_dst_days_have_23_and_25_hours(make_sim: Any) -> None:
    for start, day, hours in (
        ("2025-03-29T12:00:00Z", date(2025, 3, 30), 23),
        ("2025-10-25T12:00:00Z", date(2025, 10, 26), 25),
    ):
        async with make_sim(start=start) as sim:
            await sim.db.execute("TRUNCATE queue, metering_point, generated_day CASCADE")
            await sim.db.execute("TRUNCATE estimated_series, clock")
            await sim.client.post(
                "/sim/seed", json={"metering_points": 60, "seed": 5, "pt15m_share": 0.5}
            )
            moved = await sim.client.post("/sim/clock", json={"advance_days": 2})
            assert day.isoformat() in [d["local_date"] for d in moved.json()["generated"]]
            plan = day_plan(day)
            queued = await _documents(sim, "MeasureData") + await _documents(sim, "Aggregations")
            docs = [d for d in queued if any(s.start == plan.start for s in d.series)]
            lengths = {
                (s.resolution, len(s.points))
                for d in docs
                for s in d.series
                if s.start == plan.start
            }
            assert lengths == {("PT1H", hours), ("PT15M", hours * 4)}
            assert all(s.end == plan.end for d in docs for s in d.series if s.start == plan.start)


async def test_aggregation_deviation_fault_skews_a_known_number_of_documents(sim: Sim) -> None:
    wrong = await sim.client.post(
        "/sim/faults", json={"category": "MasterData", "kind": "aggregation_deviation"}
    )
    assert wrong.status_code == 400
    injected = await sim.client.post(
        "/sim/faults",
        json={"category": "Aggregations", "kind": "aggregation_deviation", "count": 2},
    )
    assert injected.status_code == 201
    assert (await _queued(sim, "Aggregations")) == []  # nothing queued until a day is generated
    await sim.client.post("/sim/seed", json={"metering_points": 500, "seed": 2})
    await sim.client.post("/sim/clock", json={"advance_days": 2})

    days = (await sim.client.get("/sim/generated")).json()["days"]
    deviations = [
        (day["local_date"], agg["grid_area"], agg["deviation"])
        for day in days
        for agg in day["aggregates"]
        if agg["deviation"] is not None
    ]
    assert len(deviations) == 2
    assert {d[0] for d in deviations} == {"2025-01-01"}  # the fault is used up on day one
    for day in days:
        for agg in day["aggregates"]:
            delta = Decimal(agg["sent_total_kwh"]) - Decimal(agg["total_kwh"])
            assert delta == (Decimal("1.000") if agg["deviation"] else 0)

    rows = await _queued(sim, "Aggregations")
    faulty = [r for r in rows if r["fault"] == "aggregation_deviation"]
    assert len(rows) == 10 and len(faulty) == 2
    measure = await _documents(sim, "MeasureData")
    points = {
        r["gsrn"]: r
        for r in await sim.db.fetch(
            "SELECT gsrn, grid_area, metering_point_type, settlement_method, resolution"
            " FROM metering_point"
        )
    }
    for row in faulty:
        doc = parse_document(bytes(row["body"]))
        assert isinstance(doc, AggregationDocument)
        (agg,) = doc.series
        _, _, deviation = next(d for d in deviations if d[1] == agg.grid_area)
        position = deviation["position"]
        summed = Decimal(0)
        for d in measure:
            for s in d.series:
                mp = points[s.gsrn]
                if (
                    s.start != agg.start
                    or s.original_transaction_id is not None
                    or mp["grid_area"] != agg.grid_area
                    or (mp["metering_point_type"], mp["settlement_method"]) != ("E17", "D01")
                ):
                    continue
                step = 4 if s.resolution == "PT15M" else 1
                summed += sum(
                    (p.quantity or Decimal(0))
                    for p in s.points
                    if (p.position - 1) // step == position - 1
                )
        assert agg.points[position - 1].quantity == summed + Decimal("1.000")
    faults = await store.faults(sim.db)
    assert [f for f in faults if f.kind == "aggregation_deviation"] == []


async def test_generation_is_safe_across_restarts_and_concurrent_clock_moves(
    make_sim: Any, postgres_dsn: str
) -> None:
    async with make_sim() as sim:
        await sim.client.post("/sim/seed", json={"metering_points": 300, "seed": 4})
        await store.set_now(sim.db, datetime(2025, 1, 4, tzinfo=UTC))
        # Two generators at once (the app's own pool lives on the test client's loop).
        db = await Database(postgres_dsn, "simulator").open()
        try:
            results = await asyncio.gather(catch_up(db, sim.settings), catch_up(db, sim.settings))
        finally:
            await db.close()
        days = sorted(r.day for result in results for r in result)
        assert days == [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]
    async with make_sim() as restarted:  # a new process on the same schema
        moved = await restarted.client.post("/sim/clock", json={"to": "2025-01-04T00:00:00Z"})
        assert moved.json()["generated"] == []
        series = await restarted.db.fetchval(
            "SELECT sum(series) FROM generated_log WHERE kind = 'measure'"
        )
        assert series == 900  # 300 metering points x 3 days, each day once
        ids = await restarted.db.fetchval("SELECT count(*) = count(DISTINCT message_id) FROM queue")
        assert ids is True


async def test_only_our_metering_points_get_measure_data(sim: Sim) -> None:
    seeded = await sim.client.post(
        "/sim/seed", json={"metering_points": 400, "seed": 6, "ours_share": 0.5}
    )
    ours = seeded.json()["supplier_gln"][OURS]
    assert 150 < ours < 250
    await sim.client.post("/sim/clock", json={"advance_days": 1})
    series = [s for d in await _documents(sim, "MeasureData") for s in d.series]
    supplied = {
        r["gsrn"]
        for r in await sim.db.fetch("SELECT gsrn FROM metering_point WHERE supplier_gln = $1", OURS)
    }
    assert len(series) == ours and {s.gsrn for s in series} == supplied
