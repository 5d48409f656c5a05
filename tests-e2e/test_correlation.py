"""One DataHub message followed through the services' JSON logs (issue 14): from the datahub
service that took it, to the settlement its data was settled in, to the invoice that billed
that settlement, with nothing but `grep` of the ids the lines name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from e2e_system import System
from scenario import Scenario, eventually, started

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A system of its own: the test moves its market clock a month ahead."""
    yield from started(
        tmp_path_factory.mktemp("wattline-correlation"),
        {
            "WATTLINE_PORTFOLIO_BILLING_FREQUENCY": "monthly",
            "WATTLINE_PORTFOLIO_PAYMENT_MODEL": "arrears",
        },
    )


def lines(system: System, service: str) -> list[dict[str, Any]]:
    """*service*'s JSON log lines, as `wattline up` wrote them (`<service>   | {...}`)."""
    out = []
    for raw in system.log.read_text(errors="replace").splitlines():
        name, sep, rest = raw.partition("| ")
        if sep and name.strip() == service and rest.startswith("{"):
            try:
                out.append(json.loads(rest))
            except json.JSONDecodeError:
                continue
    return out


def grep(system: System, needle: str) -> list[str]:
    return [raw for raw in system.log.read_text(errors="replace").splitlines() if needle in raw]


async def _now(value: Any) -> Any:
    return value


async def test_one_datahub_message_is_followed_to_its_settlement_and_invoice(
    system: Scenario, tmp_path: Path
) -> None:
    month = system
    await system.given_the_go_live_import(
        metering_points=6, seed=7, ours_share="0.5", customers=1, cwd=tmp_path
    )
    export = (await system.simulator("GET", "/sim/portfolio-import.csv")).text.splitlines()
    assert len(export) >= 2, export
    # Given January's data from DataHub, and its spot prices
    await system.when_an_operator_moves_the_clock("2025-02-02T00:00:00+00:00", cwd=tmp_path)
    await system.when_spot_prices_are_imported("2025-01-01", "2025-01-31")
    # When January is settled (a run through the API: the running settlement service
    # settles it, so its lines land in the system's log) and invoiced
    run = await system.when_settlement_runs("2025-01")
    assert run["status"] == "completed", run
    settled = await eventually(
        lambda: _now(
            [e for e in lines(month, "settlement") if e.get("event") == "settlement_settled"]
        ),
        bool,
        60,
    )
    assert settled, "no settlement_settled line"
    closed = await eventually(
        lambda: system.call("POST", "/api/invoices/cycles/2025-01/close"),
        lambda r: r.status_code == 200 and r.json()["issued"],
        60,
    )
    assert closed.status_code == 200 and closed.json()["issued"], closed.text

    # Then one of the settlement's DataHub messages, grepped, names that settlement
    line = settled[0]
    assert line["period"] == "2025-01" and line["datahub_message_ids"], line
    message_id = line["datahub_message_ids"][0]
    found = grep(month, message_id)
    assert any('"datahub_message_parsed"' in raw and raw.startswith("datahub") for raw in found)
    assert any(line["settlement_id"] in raw for raw in found if '"settlement_settled"' in raw)
    taken = [
        e
        for e in lines(month, "datahub")
        if e.get("event") == "datahub_message_parsed" and e.get("datahub_message_id") == message_id
    ]
    assert taken and taken[0]["outcome"] == "stored", taken
    # and the settlement's id, grepped, names the invoice that billed it
    issued = await eventually(
        lambda: _now(
            [
                e
                for e in lines(month, "invoicing")
                if e.get("event") == "invoice_issued"
                and line["settlement_id"] in e.get("settlement_ids", [])
            ]
        ),
        bool,
        60,
    )
    assert len(issued) == 1, issued
    invoices = (await system.get("/api/invoices", params={"cycle": "2025-01"}))["items"]
    [doc] = [d for d in invoices if d["number"] == issued[0]["number"]]
    detail = await system.get(f"/api/invoices/{doc['invoice_id']}")
    # the invoice's lines are that settlement's, for its metering point, to the øre
    billed = [ln for ln in detail["lines"] if ln["source_id"] == line["settlement_id"]]
    assert billed and {ln["gsrn"] for ln in billed} == {line["gsrn"]}
    [settlement] = [
        s
        for s in await system.then_settlements_of(line["gsrn"])
        if s["settlement_id"] == line["settlement_id"]
    ]
    assert Decimal(settlement["total"]) == Decimal(line["total"]) > 0
    # No personal data on the way: the customer's CPR/CVR never reaches a log line.
    customers = json.loads((await system.cli("sim", "customers", "--json", cwd=tmp_path)).stdout)
    log = month.log.read_text(errors="replace")
    assert customers and not any(c["cpr_cvr"] in log for c in customers)
