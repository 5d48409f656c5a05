"""The go-live import: metering points we already supply, from the old CIS's CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest
from wattline_portfolio.domain.portfolio_import import split_street
from wattline_portfolio.handlers import supply
from wattline_simulator.domain.seeding import SeededPoint, customer_id_for

if TYPE_CHECKING:
    from conftest import Rig

SPOT = str(uuid.uuid5(uuid.NAMESPACE_URL, "wattline:product:Spot"))
GREEN = str(uuid.uuid5(uuid.NAMESPACE_URL, "wattline:product:Spot Grøn"))
CSV = {"content-type": "text/csv"}


def row_for(rig: Rig, point: SeededPoint, **changes: str) -> dict[str, str]:
    business = point.profile == "business"
    row = {
        "external_id": f"CIS-{point.gsrn[-6:]}",
        "gsrn": point.gsrn,
        "grid_area": point.grid_area,
        "price_area": point.price_area,
        "metering_point_type": point.metering_point_type,
        "settlement_method": point.settlement_method,
        "resolution": point.resolution,
        "supply_start": "2024-01-01",
        "customer_type": "business" if business else "private",
        "cpr_cvr": rig.cpr_of(point),
        "name": "Grethe Hansen",
        "email": "grethe@example.dk",
        "street": "Vestergade 12, 2. tv",
        "postcode": "8000",
        "city": "Aarhus C",
        "dar_id": str(point.dar_id),
        "product": "Spot",
    }
    row.update(changes)
    return row


def csv_of(rows: list[dict[str, str]], columns: list[str] | None = None) -> bytes:
    out = io.StringIO()
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(
        out, fieldnames=columns, restval="", extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def post(rig: Rig, body: bytes, headers: dict[str, str] = CSV) -> httpx.Response:
    return await rig.client.post("/api/portfolio/imports", content=body, headers=headers)


async def imported(rig: Rig, rows: list[dict[str, str]]) -> dict[str, Any]:
    response = await post(rig, csv_of(rows))
    assert response.status_code == 201, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_an_imported_point_is_ours_with_the_events_settlement_needs(rig: Rig) -> None:
    private, business = rig.single(0), rig.single(1)
    cvr = customer_id_for(business.dar_id, True)[1]
    rows = [
        row_for(rig, private),
        row_for(
            rig,
            business,
            customer_type="business",
            cpr_cvr=cvr,
            name="Hansen Tømrer ApS",
            product="spot grøn",  # a name, any case
            supply_start="2024-10-01",
            payer_external_id="PAY-77",
            payer_type="private",
            payer_cpr_cvr="0101901234",
            payer_name="Jens Hansen",
            payer_street="Strandvejen 5",
            payer_postcode="2900",
            payer_city="Hellerup",
            billing_frequency="monthly",
            payment_model="arrears",
        ),
    ]
    report = await imported(rig, rows)
    addresses = await rig.service.database.fetch("SELECT gsrn, dar_id FROM imported_row")
    assert {r["gsrn"]: r["dar_id"] for r in addresses} == {
        private.gsrn: private.dar_id,
        business.gsrn: business.dar_id,
    }
    assert {k: report[k] for k in ("rows", "imported", "already_imported", "rejected")} == {
        "rows": 2,
        "imported": 2,
        "already_imported": 0,
        "rejected": 0,
    }
    assert report["errors"] == []

    registered = {e["gsrn"]: e for e in await rig.events("portfolio.metering_point.registered")}
    assert registered[private.gsrn]["grid_area"] == private.grid_area
    assert registered[private.gsrn]["resolution"] == private.resolution
    periods = {e["gsrn"]: e for e in await rig.events("portfolio.supply_period.changed")}
    assert (periods[private.gsrn]["start_date"], periods[private.gsrn]["reason"]) == (
        "2024-01-01",
        "started",
    )
    assert (periods[business.gsrn]["start_date"], periods[business.gsrn]["end_date"]) == (
        "2024-10-01",
        None,
    )
    contracts = {e["gsrn"]: e for e in await rig.events("portfolio.contract.changed")}
    assert [
        (c["product_id"], c["product_version"], c["start_date"], c["billing_frequency"])
        for c in (contracts[private.gsrn], contracts[business.gsrn])
    ] == [(SPOT, 1, "2024-01-01", "quarterly"), (GREEN, 1, "2024-10-01", "monthly")]
    assert contracts[private.gsrn]["payer_id"] is None
    assert contracts[business.gsrn]["payment_model"] == "arrears"
    activated = {e["gsrn"]: e for e in await rig.events("portfolio.customer.activated")}
    assert activated[private.gsrn]["signup_id"] == f"import:CIS-{private.gsrn[-6:]}"
    assert activated[private.gsrn]["effective_date"] == "2024-01-01"
    assert activated[business.gsrn]["payer"]["party_id"] == contracts[business.gsrn]["payer_id"]
    assert activated[business.gsrn]["customer"]["cpr_cvr_masked"] == cvr[:4] + "****"
    # No BRS request: DataHub has us as the supplier already.
    assert await rig.events("portfolio.datahub_request.raised") == []

    customers = (await rig.client.get("/api/customers")).json()["items"]
    assert sorted((c["name"], c["status"]) for c in customers) == [
        ("Grethe Hansen", "active"),
        ("Hansen Tømrer ApS", "active"),
    ]
    found = (await rig.client.get("/api/customers", params={"search": rig.cpr_of(private)})).json()
    [customer] = found["items"]
    detail = (await rig.client.get(f"/api/customers/{customer['customer_id']}")).json()
    assert detail["billing_address"] == {
        "street": "Vestergade",
        "house_number": "12",
        "floor": "2",
        "door": "tv",
        "postal_code": "8000",
        "city": "Aarhus C",
    }
    assert [(c["gsrn"], c["product_name"], c["end_date"]) for c in detail["contracts"]] == [
        (private.gsrn, "Spot", None)
    ]
    # Sealed like a signup's: the name is nowhere in clear text in the database.
    assert (
        await rig.service.database.fetchval(
            "SELECT count(*) FROM party WHERE sealed LIKE '%Grethe%'"
        )
        == 0
    )

    again = await rig.client.get(f"/api/portfolio/imports/{report['import_id']}")
    assert again.status_code == 200 and again.json() == report
    unknown = await rig.client.get(f"/api/portfolio/imports/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/import-not-found")


async def test_the_same_file_again_imports_nothing_new(rig: Rig) -> None:
    rows = [row_for(rig, rig.single(n)) for n in range(3)]
    first = await imported(rig, rows)
    assert (first["imported"], first["already_imported"]) == (3, 0)
    events = await rig.service.database.fetchval("SELECT count(*) FROM outbox")
    # The same file, and a newer export with one row more.
    second = await imported(rig, rows)
    assert {k: second[k] for k in ("rows", "imported", "already_imported", "rejected")} == {
        "rows": 3,
        "imported": 0,
        "already_imported": 3,
        "rejected": 0,
    }
    assert await rig.service.database.fetchval("SELECT count(*) FROM outbox") == events
    third = await imported(rig, [*rows, row_for(rig, rig.single(3))])
    assert (third["imported"], third["already_imported"]) == (1, 3)
    assert await rig.service.database.fetchval("SELECT count(*) FROM supply_period") == 4
    assert await rig.service.database.fetchval("SELECT count(*) FROM party") == 4
    # The imports, newest first, a page at a time.
    page = (await rig.client.get("/api/portfolio/imports", params={"limit": 2})).json()
    assert [(i["import_id"], i["imported"], i["already_imported"]) for i in page["items"]] == [
        (third["import_id"], 1, 3),
        (second["import_id"], 0, 3),
    ]
    assert page["items"][0]["finished_at"] is not None and "errors" not in page["items"][0]
    rest = await rig.client.get(
        "/api/portfolio/imports", params={"limit": 2, "after": page["next_after"]}
    )
    assert [(i["import_id"], i["rows"]) for i in rest.json()["items"]] == [(first["import_id"], 3)]
    assert rest.json()["next_after"] is None


async def test_each_refused_row_is_named_and_the_good_rows_are_imported(rig: Rig) -> None:
    points = [rig.single(n) for n in range(12)]
    bad_gsrn = points[1].gsrn[:-1] + str((int(points[1].gsrn[-1]) + 1) % 10)
    rows = [
        row_for(rig, points[0]),  # line 2: fine
        row_for(rig, points[1], gsrn=bad_gsrn),  # 3
        row_for(rig, points[2], cpr_cvr="3113901234"),  # 4: 31 November
        row_for(rig, points[3], product="Super Saver"),  # 5
        row_for(rig, points[4], supply_start="01-02-2024"),  # 6
        row_for(rig, points[5], price_area="DK2" if points[5].price_area == "DK1" else "DK1"),
        row_for(rig, points[6], name="", email="not-an-address"),  # 8
        row_for(rig, points[7], payer_name="Jens Hansen"),  # 9: a payer without the rest
        row_for(rig, points[8], external_id=f"CIS-{points[0].gsrn[-6:]}"),  # 10: repeats 2
        row_for(rig, points[9], supply_start="2020-01-01"),  # 11: before Spot had a price
        row_for(rig, points[10], metering_point_type="E20", customer_type="person"),  # 12
        row_for(rig, points[11]),  # 13: fine
    ]
    body = csv_of(rows) + b'"CIS-x","5713"\r\n'  # line 14: two fields
    response = await post(rig, body)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows"], report["imported"], report["rejected"]) == (13, 2, 11)
    reasons = {e["line"]: (e["external_id"], e["reasons"]) for e in report["errors"]}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14]
    assert reasons[3] == (
        f"CIS-{points[1].gsrn[-6:]}",
        ["gsrn is not a GSRN (18 digits, starts 57, GS1 check digit)"],
    )
    [cpr] = reasons[4][1]
    assert cpr.startswith("cpr_cvr: not a valid CPR number") and "3113901234" not in cpr
    assert reasons[5][1] == ["product is not in the catalogue (its id or name)"]
    # A reason names the column, never its value (a mis-mapped column may hold a CPR).
    assert all(bad_gsrn not in reason for _, rs in reasons.values() for reason in rs)
    assert reasons[6][1] == ["supply_start must be a date YYYY-MM-DD"]
    [area] = reasons[7][1]
    assert area.endswith(f"grid area {points[5].grid_area} lies in {points[5].price_area}")
    assert reasons[8][1] == ["name is empty", "email is not an e-mail address"]
    assert reasons[9][1] == [
        "a separate payer needs payer_type, payer_cpr_cvr, payer_street, payer_postcode, payer_city"
    ]
    assert reasons[10] == (f"CIS-{points[0].gsrn[-6:]}", ["external_id repeats line 2"])
    assert reasons[11][1] == ["product 'Spot' is withdrawn or has no price on 2020-01-01"]
    assert reasons[12][1] == [
        "metering_point_type must be one of E17, E18",
        "customer_type must be private or business",
    ]
    assert reasons[14] == (None, ["2 fields, the header has 18"])
    imported_gsrns = {r["gsrn"] for r in await rig.service.database.fetch("TABLE supply_period")}
    assert imported_gsrns == {points[0].gsrn, points[11].gsrn}
    # The report holds no personal data.
    stored = await rig.service.database.fetchval("SELECT errors::text FROM portfolio_import")
    assert "Grethe" not in stored and rig.cpr_of(points[2]) not in stored


async def test_a_point_we_supply_already_is_refused_naming_what_supplies_it(rig: Rig) -> None:
    by_signup, pending, twice = rig.single(0), rig.single(1), rig.single(2)
    signup_id = await rig.activate(by_signup)  # ours from 24 March 2025
    submitted = await rig.client.post("/api/signup", json=rig.signup_body(pending))
    assert submitted.status_code == 201, submitted.text
    rows = [
        row_for(rig, by_signup, supply_start="2025-04-01"),
        row_for(rig, pending),
        row_for(rig, twice),
        row_for(rig, twice, external_id="CIS-other", supply_start="2024-06-01"),
    ]
    report = await imported(rig, rows)
    assert (report["imported"], report["rejected"]) == (1, 3)
    assert [(e["line"], e["reasons"]) for e in report["errors"]] == [
        (2, [f"metering point {by_signup.gsrn} is already supplied by us from 2025-03-24 "
             f"(signup {signup_id})"]),
        (3, [f"metering point {pending.gsrn} has an open process "
             f"(BRS-001, signup {submitted.json()['signup_id']})"]),
        (5, [f"metering point {twice.gsrn} is already supplied by us from 2024-01-01 "
             f"(import row CIS-{twice.gsrn[-6:]})"]),
    ]  # fmt: skip


async def test_a_supply_that_ended_before_the_imported_start_is_no_obstacle(rig: Rig) -> None:
    point = rig.single(0)
    await rig.activate(point)
    await rig.notification(point.gsrn, date(2025, 4, 15))  # ours until 14 April
    report = await imported(rig, [row_for(rig, point, supply_start="2025-04-14")])
    assert report["rejected"] == 1 and "until 2025-04-15" in report["errors"][0]["reasons"][0]
    report = await imported(rig, [row_for(rig, point, supply_start="2025-04-15")])
    assert (report["imported"], report["rejected"]) == (1, 0)


async def test_a_signup_for_an_imported_point_is_already_supplied(rig: Rig) -> None:
    point = rig.single(0)
    await imported(rig, [row_for(rig, point)])
    for kind, day in (("switch", "2025-04-22"), ("move_in", "2025-03-04")):
        response = await rig.client.post(
            "/api/signup", json=rig.signup_body(point, type=kind, effective_date=day)
        )
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["type"].endswith("/already-supplied") and problem["gsrn"] == point.gsrn
        assert "from 2024-01-01" in problem["detail"]
    assert await rig.service.database.fetchval("SELECT count(*) FROM signup") == 0


async def test_a_row_that_fails_while_stored_leaves_nothing_behind(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, failing = rig.single(0), rig.single(1)
    real = supply.start_supply

    async def start_supply(p: Any, tx: Any, supply: Any, process: Any) -> tuple[str, str]:
        ids = await real(p, tx, supply, process)  # period, contract and events written...
        if supply.gsrn == failing.gsrn:
            raise asyncpg.CheckViolationError("the disk is full")  # ...then the row fails
        return ids

    monkeypatch.setattr(supply, "start_supply", start_supply)
    report = await imported(rig, [row_for(rig, failing, name="Half Row"), row_for(rig, good)])
    assert (report["imported"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["reasons"] == [
        "could not be stored (an internal error, logged with the line)"
    ]
    db = rig.service.database
    for table in ("supply_period", "contract", "metering_points", "imported_row"):
        assert await db.fetchval(f"SELECT count(*) FROM {table} WHERE gsrn = $1", failing.gsrn) == 0
    assert await db.fetchval("SELECT count(*) FROM party") == 1
    outbox = await db.fetchval("SELECT count(*) FROM outbox WHERE key = $1", failing.gsrn)
    assert outbox == 0
    monkeypatch.undo()
    retried = await imported(rig, [row_for(rig, failing), row_for(rig, good)])
    assert (retried["imported"], retried["already_imported"]) == (1, 1)


@pytest.mark.parametrize(
    ("body", "headers", "status", "kind"),
    [
        (b"external_id,gsrn\r\n", {"content-type": "application/json"}, 415,
         "unsupported-media-type"),
        (b"x", {"content-type": "text/csv; charset=latin-1"}, 415, "unsupported-media-type"),
        ("external_id,name\r\nø,Søren\r\n".encode("latin-1"), CSV, 415, "csv-not-utf8"),
        (b"", CSV, 400, "empty-csv"),
        (b" \r\n\r\n", CSV, 400, "empty-csv"),
        (b"external_id;gsrn;name\r\n", CSV, 400, "csv-missing-columns"),
        (b"external_id,gsrn\r\n1,2\r\n", CSV, 400, "csv-missing-columns"),
    ],
)  # fmt: skip
async def test_a_file_that_is_not_an_import_is_refused(
    rig: Rig, body: bytes, headers: dict[str, str], status: int, kind: str
) -> None:
    response = await post(rig, body, headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(f"/{kind}")
    assert await rig.service.database.fetchval("SELECT count(*) FROM portfolio_import") == 0


async def test_a_header_is_checked_column_by_column(rig: Rig) -> None:
    row = row_for(rig, rig.single(0))
    missing = await post(rig, csv_of([row], [c for c in row if c not in ("gsrn", "city")]))
    assert missing.status_code == 400
    assert missing.json()["missing"] == ["gsrn", "city"]
    unknown = await post(rig, csv_of([{**row, "paymnet_model": "arrears"}]))
    assert unknown.status_code == 400 and unknown.json()["unknown"] == ["paymnet_model"]
    header = ",".join(row) + ",gsrn\r\n"
    repeated = await post(rig, header.encode())
    assert repeated.status_code == 400 and repeated.json()["type"].endswith("/csv-repeated-columns")
    broken = csv_of([row]) + b'"CIS-9,"unterminated\r\n'
    invalid = await post(rig, broken)
    assert invalid.status_code == 400 and invalid.json()["type"].endswith("/invalid-csv")
    nul = await post(rig, csv_of([{**row, "external_id": "CIS-\x00"}]))
    assert nul.status_code == 400 and nul.json()["detail"] == "line 2: a NUL character"
    bom = await post(rig, b"\xef\xbb\xbf" + csv_of([row]))  # Excel's UTF-8
    assert bom.status_code == 201 and bom.json()["imported"] == 1


async def test_a_file_over_the_bounds_is_refused(rig: Rig) -> None:
    rows = [row_for(rig, rig.single(n)) for n in range(3)]
    rig.p.settings.import_max_rows = 2
    too_many = await post(rig, csv_of(rows))
    assert too_many.status_code == 413 and too_many.json()["type"].endswith("/import-too-large")
    assert too_many.json()["max_rows"] == 2
    rig.p.settings.import_max_rows = 100_000
    rig.p.settings.import_max_bytes = 500
    too_big = await post(rig, csv_of(rows))
    assert too_big.status_code == 413 and too_big.json()["max_bytes"] == 500

    async def chunks() -> Any:  # no content-length: counted while read
        yield csv_of(rows)

    streamed = await rig.client.post("/api/portfolio/imports", content=chunks(), headers=CSV)
    assert streamed.status_code == 413, (len(csv_of(rows)), streamed.text)
    assert await rig.service.database.fetchval("SELECT count(*) FROM supply_period") == 0


def test_a_one_line_street_is_split_into_its_parts() -> None:
    assert split_street("Nørrebrogade 42B, 3. th") == ("Nørrebrogade", "42B", "3", "th")
    assert split_street("H.C. Andersens Boulevard 7, st.") == (
        "H.C. Andersens Boulevard",
        "7",
        "st",
        None,
    )
    assert split_street("Vej 10") == ("Vej", "10", None, None)
    assert split_street("Postboks") == ("Postboks", "", None, None)


def test_the_readmes_column_table_is_the_importers() -> None:
    """README.md documents every column the importer reads, and which of them are required."""
    from pathlib import Path

    from wattline_contracts.portfolio_import import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("### Portfolio import", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            for name in cells[0].replace("`", "").split(","):
                documented[name.strip()] = cells[1]
    assert set(documented) == {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS}
    assert {n for n, req in documented.items() if req.startswith("yes")} == set(REQUIRED_COLUMNS)
