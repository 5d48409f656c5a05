"""Bulk seeding of metering points, and the address lookup over them."""

from __future__ import annotations

import csv
import io
import time

from wattline_platform.identifiers import is_valid_gsrn
from wattline_simulator.domain.market import OTHER_SUPPLIER_GLN, PRICE_AREA
from wattline_simulator.domain.seeding import customer_key
from wattline_simulator.handlers.seed import seed
from wattline_simulator.testing import Sim

OURS = "5799994000015"


async def test_seed_is_deterministic_idempotent_and_bulk(sim: Sim) -> None:
    began = time.perf_counter()
    assert await seed(sim.db, 5000) == 5000
    assert time.perf_counter() - began < 5  # COPY, not one INSERT per row
    assert await seed(sim.db, 5000) == 0  # the same seed adds nothing
    assert await seed(sim.db, 6000) == 1000  # the next 1,000 of the same stream
    assert await seed(sim.db, 100, seed=2) == 100  # another seed, other metering points

    rows = await sim.db.fetch("SELECT * FROM metering_point WHERE seed = 1 ORDER BY seed_index")
    assert len(rows) == 6000
    assert rows[0]["gsrn"] == "571300010000000001"
    assert all(is_valid_gsrn(r["gsrn"]) for r in rows)
    assert all(r["price_area"] == PRICE_AREA[r["grid_area"]] for r in rows)
    assert {r["grid_area"] for r in rows} == {"344", "131", "543", "740", "791"}
    assert {r["price_area"] for r in rows if r["grid_area"] in ("740", "791")} == {"DK2"}
    assert {r["price_area"] for r in rows if r["grid_area"] in ("344", "131", "543")} == {"DK1"}
    pt15m = sum(r["resolution"] == "PT15M" for r in rows)
    assert pt15m == 618  # ~10 %
    assert {r["supplier_gln"] for r in rows} == {OURS}
    types = {(r["metering_point_type"], r["settlement_method"], r["profile"]) for r in rows}
    assert types == {
        ("E17", "D01", "household"),
        ("E17", "D01", "business"),
        ("E17", "E02", "business"),
        ("E18", "D01", "solar"),
    }
    per_address = await sim.db.fetch(
        "SELECT n, count(*) AS addresses FROM (SELECT dar_id, count(*) AS n FROM metering_point"
        " WHERE seed = 1 GROUP BY dar_id) a GROUP BY n ORDER BY n"
    )
    sizes = {r["n"]: r["addresses"] for r in per_address}
    assert set(sizes) == {1, 2, 3}
    assert sizes[2] > 200 and sizes[3] > 100
    assert sum(n * count for n, count in sizes.items()) == 6000


async def test_seed_shares_and_endpoint(sim: Sim) -> None:
    seeded = await sim.client.post(
        "/sim/seed",
        json={"metering_points": 2000, "seed": 9, "pt15m_share": 0.5, "ours_share": 0.25},
    )
    body = seeded.json()
    assert seeded.status_code == 200 and body["added"] == 2000
    assert body["metering_points"] == 2000
    assert set(body["supplier_gln"]) == {OURS, OTHER_SUPPLIER_GLN}
    assert 400 < body["supplier_gln"][OURS] < 600
    assert 900 < body["resolution"]["PT15M"] < 1100
    again = await sim.client.post("/sim/seed", json={"metering_points": 2000, "seed": 9})
    assert again.json()["added"] == 0
    market = (await sim.client.get("/sim/market")).json()
    assert market["metering_points"] == 2000
    assert market["price_areas"] == {
        "344": "DK1",
        "131": "DK1",
        "543": "DK1",
        "740": "DK2",
        "791": "DK2",
    }
    bad = await sim.client.post("/sim/seed", json={"metering_points": -1})
    assert bad.status_code == 400


async def test_address_lookup(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 300, "seed": 1})
    shared = await sim.db.fetch(
        "SELECT dar_id, array_agg(gsrn ORDER BY gsrn) AS gsrns FROM metering_point"
        " GROUP BY dar_id HAVING count(*) > 1 ORDER BY min(gsrn)"
    )
    assert {len(r["gsrns"]) for r in shared} == {2, 3}
    for row in shared[:5]:
        found = await sim.client.get(f"/sim/addresses/{row['dar_id']}")
        assert found.status_code == 200
        assert found.json() == {"dar_id": str(row["dar_id"]), "gsrns": list(row["gsrns"])}
    # Seed 1, address 1: the second metering point, alone at its address.
    single = await sim.client.get("/sim/addresses/4ab66ba4-1c3f-5a23-9aa8-4787ce89c8dd")
    assert single.json()["gsrns"] == ["571300010000000018"]
    unknown = await sim.client.get("/sim/addresses/5b1f3c2e-8d4a-4c7e-9a61-2f0e7d9c4b18")
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/unknown-address")
    assert (await sim.client.get("/sim/addresses/not-a-uuid")).status_code == 404

    point = await sim.client.get("/sim/metering-points/571300010000000018")
    assert point.json()["dar_id"] == "4ab66ba4-1c3f-5a23-9aa8-4787ce89c8dd"
    assert point.json()["supplier_gln"] == OURS
    assert (await sim.client.get("/sim/metering-points/571300010000009999")).status_code == 404


async def test_customers_are_switchable_and_carry_the_number_datahub_expects(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 300, "seed": 3, "ours_share": 0.5})
    r = await sim.client.get("/sim/customers", params={"limit": 20})
    assert r.status_code == 200, r.text
    customers = r.json()
    assert len(customers) == 20
    assert [c["dar_id"] for c in customers] == sorted(c["dar_id"] for c in customers)
    for c in customers:
        rows = await sim.db.fetch("SELECT * FROM metering_point WHERE dar_id = $1", c["dar_id"])
        assert {p["gsrn"] for p in c["points"]} == {row["gsrn"] for row in rows}
        assert all(row["supplier_gln"] == OTHER_SUPPLIER_GLN and not row["blocked"] for row in rows)
        assert c["several_points"] == (len(rows) > 1)
        scheme = "VAT" if c["contact_type"] == "business" else "ARR"
        assert {row["customer_key"] for row in rows} == {customer_key(scheme, c["cpr_cvr"])}
        assert (
            next(p for p in c["points"] if p["gsrn"] == c["gsrn"])["metering_point_type"] == "E17"
        )
    page2 = (
        await sim.client.get("/sim/customers", params={"after": customers[-1]["dar_id"]})
    ).json()
    assert page2 and page2[0]["dar_id"] > customers[-1]["dar_id"]
    assert (await sim.client.get("/sim/customers", params={"limit": 0})).status_code == 400


async def test_portfolio_import_file_lists_exactly_our_points(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 200, "seed": 3, "ours_share": 0.3})
    r = await sim.client.get("/sim/portfolio-import.csv", params={"product": "Spot Grøn"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    ours = await sim.db.fetch("SELECT * FROM metering_point WHERE supplier_gln = $1", OURS)
    assert sorted(row["gsrn"] for row in rows) == sorted(p["gsrn"] for p in ours)
    assert 0 < len(rows) < 200
    by_gsrn = {p["gsrn"]: p for p in ours}
    for row in rows:
        point = by_gsrn[row["gsrn"]]
        scheme = "VAT" if row["customer_type"] == "business" else "ARR"
        assert customer_key(scheme, row["cpr_cvr"]) == point["customer_key"]
        assert (row["grid_area"], row["resolution"], row["dar_id"]) == (
            point["grid_area"],
            point["resolution"],
            str(point["dar_id"]),
        )
        assert row["supply_start"] == "2025-01-01" and row["product"] == "Spot Grøn"
        assert row["external_id"] == f"SIM-{row['gsrn']}"
