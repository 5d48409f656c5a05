"""A new user's first hour on a host where another Wattline may run on the default ports.

A system of its own on random ports; every command is run as a user runs it, with nothing but
the home (`WATTLINE_HOME`) to say which system: no DATABASE_URL, no ports. The commands must
act on this system only, and say clearly when no system is running.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from e2e_system import System, wattline
from scenario import COPENHAGEN, Scenario, eventually
from wattline_platform.business_days import business_days_ahead


@pytest.fixture(scope="module")
def first(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A second Wattline, started while the session's (`system`) runs beside it."""
    second = Scenario(tmp_path_factory.mktemp("wattline-first-hour"))
    second.start()
    try:
        yield second
    finally:
        if second.proc is not None:
            second.stop()


def test_without_a_running_system_every_command_says_so(tmp_path: Path) -> None:
    for args in (
        ["status"],
        ["migrate"],
        ["apikey", "list"],
        ["sim", "seed", "--metering-points", "5"],
        ["sim", "customers"],
        ["settlement", "run", "--period", "2025-01"],
        ["replay", "--since", "2025-01-01"],
    ):
        out = wattline(*args, home=None, cwd=tmp_path, timeout=60)
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        assert "no Wattline is running from" in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    (tmp_path / "system.json").write_text(
        json.dumps(
            {
                "pid": 2**22 + 17,  # beyond pid_max by default: no such process
                "started_at": "2026-01-01T00:00:00+00:00",
                "gateway_url": "http://127.0.0.1:9",
                "database_url": "postgresql://postgres@127.0.0.1:9/wattline",
                "kafka_bootstrap": "127.0.0.1:9",
                "api_key_file": str(tmp_path / "dev-api-key"),
            }
        )
    )
    out = wattline("status", home=tmp_path, cwd=tmp_path, timeout=60)
    assert out.returncode == 1 and "is not running" in out.stderr, out.stderr


def test_system_description_names_this_system(first: Scenario) -> None:
    described = json.loads((first.home / "system.json").read_text())
    assert described["gateway_url"] == first.url
    assert described["database_url"].endswith(f":{first.pg_port}/wattline")
    assert described["kafka_bootstrap"] == f"127.0.0.1:{first.kafka_port}"
    assert described["services"]["simulator"] == first.simulator_url
    assert oct((first.home / "system.json").stat().st_mode & 0o777) == "0o600"


def test_status_apikey_migrate_act_on_this_system(first: Scenario, tmp_path: Path) -> None:
    status = wattline("status", home=first.home, cwd=tmp_path)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "outbox portfolio" in status.stdout and "gateway" not in status.stderr

    created = wattline(
        "apikey", "create", "--name", "website", "--scopes", "signup:write products:read",
        home=first.home, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    with httpx.Client(base_url=first.url, headers={"X-API-Key": key}) as client:
        assert client.get("/api/products").status_code == 200
        assert client.get("/api/customers").status_code == 403
    listed = wattline("apikey", "list", home=first.home, cwd=tmp_path)
    assert "website" in listed.stdout and "products:read,signup:write" in listed.stdout

    migrated = wattline("migrate", home=first.home, cwd=tmp_path)
    assert migrated.returncode == 0 and "portfolio: 0 applied" in migrated.stdout


async def test_seed_import_signup_settle_on_this_system(first: Scenario, tmp_path: Path) -> None:
    # Given the go-live import, printed for the user
    seeded = await first.given_the_go_live_import(
        metering_points=60, seed=31, ours_share="0.2", customers=3, cwd=tmp_path
    )
    assert "60 metering points added" in seeded.stdout
    assert " rejected" in seeded.stdout and ", 0 rejected" in seeded.stdout, seeded.stdout

    listed = await first.cli("sim", "customers", "--json", "--limit", "3", cwd=tmp_path)
    customers = json.loads(listed.stdout)
    assert len(customers) == 3
    assert all(c["cpr_cvr"] in seeded.stdout and c["dar_id"] in seeded.stdout for c in customers)

    # The imported points are ours: settlement knows them from the portfolio's events.
    imported = await first.given_our_imported_points()
    assert imported, "ours_share 0.2 of 60 gave us no points"
    await first.given_settlement_knows([row["gsrn"] for row in imported])

    # When the printed customer signs up, then it is active after one clock advance.
    customer = customers[0]
    effective = business_days_ahead(await first.today(), 15)
    body = {
        "dar_id": customer["dar_id"],
        "gsrn": customer["gsrn"] if customer["several_points"] else None,
        "customer_name": customer["name"],
        "cpr_cvr": customer["cpr_cvr"],
        "contact_type": customer["contact_type"],
        "email": customer["email"],
        "product_id": await first.product_id(),
        "type": "switch",
        "effective_date": effective.isoformat(),
        "billing_street": customer["billing_street"],
        "billing_house_number": customer["billing_house_number"],
        "billing_postal_code": customer["billing_postal_code"],
        "billing_city": customer["billing_city"],
    }
    signup = await first.call(
        "POST", "/api/signup", json={k: v for k, v in body.items() if v is not None}
    )
    assert signup.status_code == 201, signup.text
    signup_id = signup.json()["signup_id"]
    await eventually(
        lambda: first.then_signup_status(signup_id), lambda s: s["status"] == "processing"
    )
    await first.when_an_operator_moves_the_clock(
        datetime(effective.year, effective.month, effective.day, 1, tzinfo=COPENHAGEN)
        .astimezone(UTC)
        .isoformat(),
        cwd=tmp_path,
        wait=False,
        timeout=600,
    )
    status = await eventually(
        lambda: first.then_signup_status(signup_id), lambda s: s["status"] == "active"
    )
    assert status["status"] == "active", status

    # When January ends, DataHub's data for it arrives.
    await first.when_an_operator_moves_the_clock(
        "2025-02-03T00:00:00+00:00", cwd=tmp_path, wait=False, timeout=600
    )
    await first.then_datahub_has_sent_everything(300)

    # Spot prices come from this system's simulator (Energi Data Service locally).
    await first.when_spot_prices_are_imported("2025-01-01", "2025-01-31")

    # A settlement run from the command line acts on this system's database.
    run = await first.when_an_operator_runs_settlement("2025-01", cwd=tmp_path,
                                                       until_completed=False)  # fmt: skip
    assert "completed" in run.stdout.splitlines()[-1], run.stdout
    consumption = sum(r["metering_point_type"] == "E17" for r in imported)
    lines = (await first.get("/api/settlement/runs", params={"period": "2025-01"}))["items"]
    settled = sum(r["progress"]["settled"] for r in lines)
    assert settled >= consumption + 1, lines  # the imported points and the signup's


def test_replay_acts_on_this_system(first: Scenario, tmp_path: Path) -> None:
    out = wattline("replay", "--service", "portfolio", "--since", "2020-01-01", home=first.home,
                   cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "portfolio:" in out.stdout and "events scheduled" in out.stdout

    async def settled() -> None:
        await first.wait_ready()

    asyncio.run(settled())


def test_the_other_system_was_not_touched(system: System, first: Scenario, tmp_path: Path) -> None:
    """Everything above acted on `first`: the session's system, running beside it, saw none."""
    assert system.url != first.url and system.pg_port != first.pg_port
    with httpx.Client(base_url=system.url, headers={"X-API-Key": system.key}) as client:
        imports = client.get("/api/portfolio/imports")
        assert imports.status_code == 200 and imports.json()["items"] == []
    listed = wattline("apikey", "list", home=system.home, cwd=tmp_path)
    assert listed.returncode == 0 and "website" not in listed.stdout
    with httpx.Client(base_url=first.url, headers={"X-API-Key": first.key}) as client:
        assert client.get("/api/portfolio/imports").json()["items"] != []
