"""RSM-015 / RSM-016 requests answered with the daily generation's values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from wattline_cim import (
    AggregationDocument,
    AggregationRequest,
    MeasureDataDocument,
    MeasureDataRequest,
    build_document,
    dumps,
    parse_document,
)
from wattline_simulator.testing import Sim

CIM = "/v1.0/cim"
OURS = "5799994000015"
BRP = "5799994000022"
JAN_2 = (datetime(2025, 1, 1, 23, tzinfo=UTC), datetime(2025, 1, 2, 23, tzinfo=UTC))


async def _auth(sim: Sim) -> dict[str, str]:
    token = await sim.client.post(
        "/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "wattline",
            "client_secret": "dev-secret",
        },
    )
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _bodies(sim: Sim, category: str, after: int = 0) -> list[Any]:
    rows = await sim.db.fetch(
        "SELECT body FROM queue WHERE category = $1 AND seq > $2 ORDER BY seq", category, after
    )
    return [parse_document(bytes(r["body"])) for r in rows]


async def test_measure_data_request_answers_what_the_day_sent(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 100, "seed": 4})
    await sim.client.post("/sim/clock", json={"to": "2025-01-03T12:00:00Z"})
    daily = [
        s
        for d in await _bodies(sim, "MeasureData")
        for s in d.series
        if s.start == JAN_2[0] and s.original_transaction_id is None
    ]
    target = daily[7]
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue")

    request = MeasureDataRequest(
        message_id=str(uuid.uuid4()),
        sender_gln=OURS,
        created=datetime(2025, 1, 3, 12, tzinfo=UTC),
        transaction_id="req-tx-1",
        gsrn=target.gsrn,
        start=JAN_2[0],
        end=JAN_2[1],
    )
    posted = await sim.client.post(
        f"{CIM}/incomingMessages/RequestValidatedMeasureData",
        content=dumps(build_document(request)),
        headers=await _auth(sim),
    )
    assert posted.status_code == 202
    (answer,) = await _bodies(sim, "MeasureData", seq)
    assert isinstance(answer, MeasureDataDocument)
    (series,) = answer.series
    assert series.original_transaction_id == "req-tx-1"
    assert (series.gsrn, series.start, series.end) == (target.gsrn, *JAN_2)
    assert series.points == target.points
    assert len(series.points) in (24, 96)
    assert sum(p.quantity or 0 for p in series.points) == sum(
        p.quantity or 0 for p in target.points
    )

    # A metering point that is not ours, or a day not generated: no answer.
    other = await sim.db.fetchval(
        "SELECT gsrn FROM metering_point WHERE supplier_gln IS DISTINCT FROM $1 LIMIT 1", OURS
    )
    for gsrn, start in ((other, JAN_2[0]), (target.gsrn, datetime(2025, 2, 1, tzinfo=UTC))):
        if gsrn is None:
            continue
        unanswered = request.model_copy(update={"gsrn": gsrn, "start": start, "end": None})
        posted = await sim.client.post(
            f"{CIM}/incomingMessages/RequestValidatedMeasureData",
            content=dumps(build_document(unanswered)),
            headers=await _auth(sim),
        )
        assert posted.status_code == 202
    assert len(await _bodies(sim, "MeasureData", seq)) == 1


async def test_aggregation_request_answers_the_daily_totals(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 300, "seed": 5})
    await sim.client.post("/sim/clock", json={"to": "2025-01-03T12:00:00Z"})
    daily = next(
        s
        for d in await _bodies(sim, "Aggregations")
        for s in d.series
        if s.grid_area == "344" and s.start == JAN_2[0]
    )
    total = await sim.db.fetchval(
        "SELECT total_kwh FROM generated_aggregate WHERE local_date = '2025-01-02' "
        "AND grid_area = '344'"
    )
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue")
    request = AggregationRequest(
        message_id=str(uuid.uuid4()),
        sender_gln=OURS,
        created=datetime(2025, 1, 3, 12, tzinfo=UTC),
        transaction_id="agg-tx-1",
        start=JAN_2[0],
        end=JAN_2[1],
        grid_area="344",
        energy_supplier_gln=OURS,
        balance_responsible_gln=BRP,
        metering_point_type="E17",
        settlement_method="D01",
    )
    posted = await sim.client.post(
        f"{CIM}/incomingMessages/RequestAggregatedMeasureData",
        content=dumps(build_document(request)),
        headers=await _auth(sim),
    )
    assert posted.status_code == 202
    (answer,) = await _bodies(sim, "Aggregations", seq)
    assert isinstance(answer, AggregationDocument)
    (series,) = answer.series
    assert series.original_transaction_id == "agg-tx-1"
    assert (series.grid_area, series.start, series.end) == ("344", *JAN_2)
    assert series.points == daily.points
    assert sum(p.quantity or Decimal(0) for p in series.points) == total

    # Without a grid area: every grid area with our flex consumption.
    everywhere = request.model_copy(update={"grid_area": None, "transaction_id": "agg-tx-2"})
    await sim.client.post(
        f"{CIM}/incomingMessages/RequestAggregatedMeasureData",
        content=dumps(build_document(everywhere)),
        headers=await _auth(sim),
    )
    (_, answer) = await _bodies(sim, "Aggregations", seq)
    assert {s.grid_area for s in answer.series} == {"131", "344", "543", "740", "791"}
