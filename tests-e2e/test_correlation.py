"""One DataHub message followed through the services' JSON logs (issue 14): from the datahub
service that took it, to the settlement its data was settled in, to the invoice that billed
that settlement, with nothing but `grep` of the ids the lines name."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_system import System, running, wait_for, wattline

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A system of its own: the test moves its market clock a month ahead."""
    yield from running(
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


def settle(api: httpx.Client, period: str, tries: int = 10) -> dict[str, Any]:
    """Run *period* through the API until a run completes; the last run. A run blocked by
    the month's last days still on their way to settlement is followed by a new run, which
    settles only what is still unsettled (a blocked run is retried in place only minutes on)."""
    run: dict[str, Any] = {}
    for _ in range(tries):
        started = api.post("/api/settlement/runs", json={"period": period})
        assert started.status_code == 202, started.text
        url = f"/api/settlement/runs/{started.json()['run_id']}"
        run = wait_for(
            lambda url=url: api.get(url).json(),
            lambda r: r["status"] in ("completed", "blocked", "failed"),
            120,
        )
        if run["status"] == "completed":
            break
        time.sleep(2)
    return run


def grep(system: System, needle: str) -> list[str]:
    return [raw for raw in system.log.read_text(errors="replace").splitlines() if needle in raw]


def test_one_datahub_message_is_followed_to_its_settlement_and_invoice(
    month: System, tmp_path: Path
) -> None:
    seeded = wattline("sim", "seed", "--metering-points", "6", "--seed", "7", "--ours-share",
                      "0.5", "--customers", "1", home=month.home, cwd=tmp_path)  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    with (
        httpx.Client(base_url=month.url, headers={"X-API-Key": month.key}, timeout=120) as api,
        httpx.Client(base_url=month.simulator_url, timeout=600, auth=month.identity_auth()) as sim,
    ):
        export = sim.get("/sim/portfolio-import.csv").text.splitlines()
        assert len(export) >= 2, export
        # Given January's data from DataHub, and its spot prices
        moved = wattline("sim", "clock", "--to", "2025-02-02T00:00:00+00:00", "--wait",
                         home=month.home, cwd=tmp_path, timeout=900)  # fmt: skip
        assert moved.returncode == 0, moved.stderr
        for area in ("DK1", "DK2"):
            spot = api.post(
                "/api/settlement/spot-prices/import",
                json={"price_area": area, "from": "2025-01-01", "to": "2025-01-31"},
            )
            assert spot.status_code == 200, spot.text
        # When January is settled (a run through the API: the running settlement service
        # settles it, so its lines land in the system's log) and invoiced
        run = settle(api, "2025-01")
        assert run["status"] == "completed", run
        settled = wait_for(lambda: [e for e in lines(month, "settlement")
                                    if e.get("event") == "settlement_settled"],
                           bool, 60)  # fmt: skip
        assert settled, "no settlement_settled line"
        closed = wait_for(lambda: api.post("/api/invoices/cycles/2025-01/close"),
                          lambda r: r.status_code == 200 and r.json()["issued"], 60)  # fmt: skip
        assert closed.status_code == 200 and closed.json()["issued"], closed.text

        # Then one of the settlement's DataHub messages, grepped, names that settlement
        line = settled[0]
        assert line["period"] == "2025-01" and line["datahub_message_ids"], line
        message_id = line["datahub_message_ids"][0]
        found = grep(month, message_id)
        assert any('"datahub_message_taken"' in raw and raw.startswith("datahub") for raw in found)
        assert any(line["settlement_id"] in raw for raw in found if '"settlement_settled"' in raw)
        taken = [
            e
            for e in lines(month, "datahub")
            if e.get("event") == "datahub_message_taken"
            and e.get("datahub_message_id") == message_id
        ]
        assert taken and taken[0]["outcome"] == "stored", taken
        # and the settlement's id, grepped, names the invoice that billed it
        issued = wait_for(
            lambda: [
                e
                for e in lines(month, "invoicing")
                if e.get("event") == "invoice_issued"
                and line["settlement_id"] in e.get("settlement_ids", [])
            ],
            bool,
            60,
        )
        assert len(issued) == 1, issued
        invoices = api.get("/api/invoices", params={"cycle": "2025-01"}).json()["items"]
        [doc] = [d for d in invoices if d["number"] == issued[0]["number"]]
        detail = api.get(f"/api/invoices/{doc['invoice_id']}").json()
        # the invoice's lines are that settlement's, for its metering point, to the øre
        billed = [ln for ln in detail["lines"] if ln["source_id"] == line["settlement_id"]]
        assert billed and {ln["gsrn"] for ln in billed} == {line["gsrn"]}
        history = api.get(f"/api/settlement/metering-points/{line['gsrn']}/settlements")
        [settlement] = [
            s for s in history.json()["settlements"] if s["settlement_id"] == line["settlement_id"]
        ]
        assert Decimal(settlement["total"]) == Decimal(line["total"]) > 0
    # No personal data on the way: the customer's CPR/CVR never reaches a log line.
    customers = json.loads(
        wattline("sim", "customers", "--json", home=month.home, cwd=tmp_path).stdout
    )
    log = month.log.read_text(errors="replace")
    assert customers and not any(c["cpr_cvr"] in log for c in customers)
