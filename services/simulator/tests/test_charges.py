"""Charges in the daily generation: RSM-034 price lists and RSM-031 charge links."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from wattline_cim import ChargeLinksDocument, PriceListDocument, parse_document
from wattline_simulator.domain.charges import (
    ENERGINET_GLN,
    GRID_COMPANY_GLN,
    gln_with_check_digit,
    grid_tariff,
)
from wattline_simulator.testing import Sim

OURS = "5799994000015"


async def _wholesale(sim: Sim, after: int = 0) -> list[Any]:
    rows = await sim.db.fetch(
        "SELECT body FROM queue WHERE category = 'Wholesale' AND seq > $1 ORDER BY seq", after
    )
    return [parse_document(bytes(r["body"])) for r in rows]


def test_tariff_model_3_prices() -> None:
    winter, summer = date(2025, 1, 15), date(2025, 7, 15)
    assert [grid_tariff(winter, h) for h in (0, 5, 6, 16, 17, 20, 21, 23)] == [
        Decimal(p)
        for p in ("0.1302", "0.1302", "0.3906", "0.3906", "1.1718", "1.1718", "0.3906", "0.3906")
    ]
    assert grid_tariff(summer, 18) == Decimal("0.5078")
    assert grid_tariff(date(2025, 10, 1), 18) == Decimal("1.1718")  # October is winter
    assert gln_with_check_digit("579999400003") == "5799994000039"
    assert len(set(GRID_COMPANY_GLN.values())) == 5


async def test_price_lists_and_links_on_the_first_day(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 300, "seed": 2, "ours_share": 0.5})
    ours = {
        r["gsrn"]: r["grid_area"]
        for r in await sim.db.fetch(
            "SELECT gsrn, grid_area FROM metering_point WHERE supplier_gln = $1", OURS
        )
    }
    assert 0 < len(ours) < 300
    await sim.client.post("/sim/clock", json={"to": "2025-01-02T12:00:00Z"})
    docs = await _wholesale(sim)
    lists = [d for d in docs if isinstance(d, PriceListDocument)]
    info = [d for d in lists if d.process_type == "D18"]
    prices = [d for d in lists if d.process_type == "D08"]
    assert len(info) == len(prices) == 6  # five grid companies and Energinet
    assert {d.charges[0].owner_gln for d in prices} == {*GRID_COMPANY_GLN.values(), ENERGINET_GLN}

    grid_344 = next(d for d in prices if d.charges[0].owner_gln == GRID_COMPANY_GLN["344"])
    tariff = next(c for c in grid_344.charges if c.charge_type == "D03")
    (series,) = tariff.price_series
    assert series.start == datetime(2024, 12, 31, 23, tzinfo=UTC)
    assert len(series.points) == 24
    by_position = {p.position: p.price for p in series.points}
    assert by_position[18] == Decimal("1.1718")  # local 17-18: winter peak
    assert by_position[1] == Decimal("0.1302")  # local 00-01: low
    assert by_position[22] == Decimal("0.3906")  # local 21-22: high
    subscription = next(c for c in grid_344.charges if c.charge_type == "D01")
    assert subscription.price_series[0].points[0].price == Decimal("21.25")
    energinet = next(d for d in prices if d.charges[0].owner_gln == ENERGINET_GLN)
    assert {c.charge_id: c.price_series[0].points[0].price for c in energinet.charges} == {
        "40000": Decimal("0.074"),
        "41000": Decimal("0.051"),
        "EA-001": Decimal("0.720"),  # elafgift 2025, flagged as a tax
    }
    info_energinet = next(d for d in info if d.charges[0].owner_gln == ENERGINET_GLN)
    assert {c.charge_id for c in info_energinet.charges if c.tax_indicator} == {"EA-001"}
    names = {c.name for d in info for c in d.charges}
    assert "Nettarif C time 344" in names

    links = [link for d in docs if isinstance(d, ChargeLinksDocument) for link in d.links]
    link_docs = [d for d in docs if isinstance(d, ChargeLinksDocument)]
    assert len(link_docs) == -(-len(ours) // 50)
    assert {link.gsrn for link in links} == set(ours)
    assert len(links) == 5 * len(ours)
    for link in links:
        assert link.factor == 1
        assert link.start == datetime(2024, 12, 31, 23, tzinfo=UTC)
        assert link.owner_gln in (GRID_COMPANY_GLN[ours[link.gsrn]], ENERGINET_GLN)

    generated = (await sim.client.get("/sim/generated")).json()
    (day1,) = generated["days"]
    assert day1["by_kind"]["charge_information"] == {"documents": 6, "series": 6}
    assert day1["by_kind"]["charge_links"] == {
        "documents": len(link_docs),
        "series": len(ours),
    }

    # The next day: nothing new, until a metering point becomes ours.
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue")
    await sim.client.post("/sim/clock", json={"advance_days": 1})
    assert await _wholesale(sim, seq) == []
    other = await sim.db.fetchval(
        "SELECT gsrn FROM metering_point WHERE supplier_gln <> $1 ORDER BY gsrn LIMIT 1", OURS
    )
    start = datetime(2025, 1, 2, 23, tzinfo=UTC)
    await sim.db.execute(
        "UPDATE metering_point SET supplier_gln = $1, supply_start = $2 WHERE gsrn = $3",
        OURS,
        start,
        other,
    )
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue")
    await sim.client.post("/sim/clock", json={"advance_days": 1})
    (doc,) = await _wholesale(sim, seq)
    assert isinstance(doc, ChargeLinksDocument)
    assert {(link.gsrn, link.start) for link in doc.links} == {(other, start)}
    assert len(doc.links) == 5
