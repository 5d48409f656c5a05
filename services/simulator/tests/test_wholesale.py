"""RSM-019 wholesale settlement: queued when a month has passed, priced from what was sent and
published, skewed on purpose by ``wholesale_deviation``, and the answer to an RSM-017."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from wattline_cim import (
    MeasureDataDocument,
    WholesaleServicesDocument,
    WholesaleSettlementRequest,
    build_document,
    dumps,
    parse_document,
)
from wattline_simulator.domain.charges import (
    ENERGINET_GLN,
    GRID_COMPANY_GLN,
    TRANSMISSION_TARIFF,
    grid_tariff,
)
from wattline_simulator.domain.market import DANISH_TZ
from wattline_simulator.testing import Sim

CIM = "/v1.0/cim"
OURS = "5799994000015"
JAN = (datetime(2024, 12, 31, 23, tzinfo=UTC), datetime(2025, 1, 31, 23, tzinfo=UTC))
D = Decimal


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


async def _documents(sim: Sim, category: str, after: int = 0) -> list[Any]:
    rows = await sim.db.fetch(
        "SELECT body FROM queue WHERE category = $1 AND seq > $2 ORDER BY seq", category, after
    )
    return [parse_document(bytes(r["body"])) for r in rows]


async def _january(sim: Sim) -> list[WholesaleServicesDocument]:
    """A market of 30 points, the clock past 1 February (January's corrections sent)."""
    await sim.client.post("/sim/seed", json={"metering_points": 30, "seed": 4})
    moved = await sim.client.post("/sim/clock", json={"to": "2025-02-02T00:00:00Z"})
    assert moved.status_code == 200, moved.text
    return [
        d for d in await _documents(sim, "Wholesale") if isinstance(d, WholesaleServicesDocument)
    ]


def _sum(doc: WholesaleServicesDocument) -> Decimal:
    return sum((p.amount or D(0) for s in doc.series for p in s.points), D(0))


async def test_a_month_is_settled_per_charge_from_the_energy_as_last_sent(sim: Sim) -> None:
    documents = await _january(sim)
    # January's energy as last sent: a correction replaces the estimated series it corrects.
    last: dict[tuple[str, datetime], list[Decimal]] = {}
    for doc in await _documents(sim, "MeasureData"):
        assert isinstance(doc, MeasureDataDocument)
        for series in doc.series:
            if JAN[0] <= series.start < JAN[1] and series.metering_point_type == "E17":
                step = 4 if series.resolution == "PT15M" else 1
                kwh = [p.quantity or D(0) for p in series.points]
                last[(series.gsrn, series.start)] = [
                    sum(kwh[i : i + step], D(0)) for i in range(0, len(kwh), step)
                ]
    areas = {
        r["gsrn"]: r["grid_area"]
        for r in await sim.db.fetch("SELECT gsrn, grid_area FROM metering_point")
    }
    # What our settlement bills per point: Σ kWh x price, rounded half up to 6 decimals once.
    transmission: dict[str, Decimal] = defaultdict(D)
    grid: dict[str, Decimal] = defaultdict(D)
    per_point: dict[str, Decimal] = defaultdict(D)
    for (gsrn, start), hours in last.items():
        transmission[areas[gsrn]] += sum((q * TRANSMISSION_TARIFF for q in hours), D(0))
        local = start.astimezone(DANISH_TZ).date()
        per_point[gsrn] += sum(
            (q * grid_tariff(local, h) for h, q in enumerate(hours)),  # January: no DST
            D(0),
        )
    for gsrn, amount in per_point.items():
        grid[areas[gsrn]] += amount.quantize(D("0.000001"), rounding=ROUND_HALF_UP)
    points = defaultdict(set)
    for gsrn, _ in last:
        points[areas[gsrn]].add(gsrn)

    by_charge = {(d.series[0].grid_area, d.series[0].charge_id): d for d in documents}
    # One document per grid area with our consumption and charge (the grid company's tariff
    # and subscription, Energinet's transmission, system tariff and electricity tax).
    assert set(by_charge) == {
        (area, charge)
        for area in points
        for charge in ("NT-C-TIME", "NT-ABON", "40000", "41000", "EA-001")
    }
    for area in points:
        fixed = by_charge[(area, "40000")]
        assert all(s.charge_owner_gln == ENERGINET_GLN for s in fixed.series)
        # 0.074 DKK/kWh on 3-decimal kWh: exact, so exactly what was sent.
        assert _sum(fixed) == transmission[area]
        tariff = by_charge[(area, "NT-C-TIME")]
        assert tariff.series[0].charge_owner_gln == GRID_COMPANY_GLN[area]
        assert abs(_sum(tariff) - grid[area]) < D("0.001")  # 6-decimal roundings only
        subscription = by_charge[(area, "NT-ABON")]
        assert {s.resolution for s in subscription.series} == {"P1D"}
        # Every point supplied all January: 21.25 DKK each, to within the daily roundings.
        assert abs(_sum(subscription) - D("21.25") * len(points[area])) < D("0.001")
        for s in tariff.series:
            assert (s.start, s.end, s.resolution) == (*JAN, "PT1H")
            assert len(s.points) == 744
            assert all(
                p.amount == (p.quantity * p.price).quantize(D("0.000001"), rounding=ROUND_HALF_UP)
                for p in s.points
                if p.quantity is not None and p.price is not None
            )
    # The real numbers of this market (seed 4): grid area 344's January, 9 points of ours:
    # 6,379.592 kWh x 0.074 DKK, and 9 x 21.25 DKK with 31 daily roundings (+0.000005).
    assert (_sum(by_charge[("344", "40000")]), _sum(by_charge[("344", "NT-ABON")])) == (
        D("472.089808"),
        D("191.250005"),
    )
    assert len(points["344"]) == 9


async def test_wholesale_deviation_skews_one_charge_by_the_known_amount(sim: Sim) -> None:
    injected = await sim.client.post(
        "/sim/faults", json={"category": "Wholesale", "kind": "wholesale_deviation", "count": 1}
    )
    assert injected.status_code == 201, injected.text
    wrong = await sim.client.post(
        "/sim/faults", json={"category": "Aggregations", "kind": "wholesale_deviation"}
    )
    assert wrong.status_code == 400
    documents = await _january(sim)
    queued = await sim.db.fetch(
        "SELECT message_id, fault FROM queue WHERE document_type = 'NotifyWholesaleServices'"
    )
    [skewed_id] = [r["message_id"] for r in queued if r["fault"] == "wholesale_deviation"]
    listed = (await sim.client.get("/sim/generated")).json()["wholesale"]
    [skewed] = [w for w in listed if w["deviation_dkk"] is not None]
    assert (skewed["message_id"], skewed["charge_id"], D(skewed["deviation_dkk"])) == (
        skewed_id,
        "40000",
        D("12.34"),
    )
    assert skewed["grid_area"] == min(w["grid_area"] for w in listed)
    assert len(listed) == len(documents)

    # RSM-017 for January: DataHub's figures without the fault, each answering our request.
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue")
    request = WholesaleSettlementRequest(
        message_id=str(uuid.uuid4()),
        sender_gln=OURS,
        created=datetime(2025, 2, 2, tzinfo=UTC),
        transaction_id="rsm017-tx-1",
        start=JAN[0],
        end=JAN[1],
        grid_area=skewed["grid_area"],
        energy_supplier_gln=OURS,
    )
    posted = await sim.client.post(
        f"{CIM}/incomingMessages/RequestWholesaleSettlement",
        content=dumps(build_document(request)),
        headers=await _auth(sim),
    )
    assert posted.status_code == 202, posted.text
    [answer] = await _documents(sim, "Wholesale", seq)
    assert isinstance(answer, WholesaleServicesDocument)
    assert answer.receiver_gln == OURS
    assert {s.original_transaction_id for s in answer.series} == {"rsm017-tx-1"}
    assert {s.grid_area for s in answer.series} == {skewed["grid_area"]}
    answered: dict[str, Decimal] = defaultdict(D)
    for s in answer.series:
        answered[s.charge_id or ""] += sum((p.amount or D(0) for p in s.points), D(0))
    for w in listed:
        if w["grid_area"] == skewed["grid_area"]:
            expected = D(w["amount_dkk"]) - (D(w["deviation_dkk"] or 0))
            assert answered[w["charge_id"]] == expected, w
    assert D(skewed["amount_dkk"]) - answered["40000"] == D("12.34")

    # Another supplier's request, or a period nothing was generated in: no answer.
    for other in (
        request.model_copy(update={"energy_supplier_gln": "5799994000046", "message_id": "m-2"}),
        request.model_copy(
            update={
                "start": datetime(2025, 6, 30, 22, tzinfo=UTC),
                "end": datetime(2025, 7, 31, 22, tzinfo=UTC),
                "message_id": "m-3",
            }
        ),
    ):
        seq = await sim.db.fetchval("SELECT max(seq) FROM queue")
        posted = await sim.client.post(
            f"{CIM}/incomingMessages/RequestWholesaleSettlement",
            content=dumps(build_document(other)),
            headers=await _auth(sim),
        )
        assert posted.status_code == 202
        assert await _documents(sim, "Wholesale", seq) == []
