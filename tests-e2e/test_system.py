"""The whole system through the gateway, started by `wattline up` (the code `make run` runs)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import httpx
import psutil
import pytest
from e2e_system import System, new_gsrns
from scenario import Scenario

pytestmark = pytest.mark.e2e


async def test_readiness_names_every_service(system: System) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{system.url}/health/ready")
    assert response.status_code == 200
    checks = response.json()["checks"]
    for name in ("portfolio", "datahub", "settlement", "invoicing", "reconciliation", "simulator"):
        assert checks[name]["ok"], checks
    assert checks["database"]["ok"] and checks["migrations"]["ok"]


async def test_walking_skeleton_through_the_gateway(system: Scenario) -> None:
    gsrn = new_gsrns(1)[0]
    # When a metering point is registered through the gateway
    created = await system.when_a_metering_point_is_registered(
        gsrn, grid_area="344", price_area="DK2", resolution="PT15M",
        headers={"X-Correlation-ID": "e2e-walking-skeleton"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.headers["x-correlation-id"] == "e2e-walking-skeleton"
    # Then settlement has its master data (from the portfolio's event)
    seen = await system.then_settlement_sees(gsrn)
    assert seen.json() == {
        "gsrn": gsrn,
        "grid_area": "344",
        "price_area": "DK2",
        "metering_point_type": "E17",
        "settlement_method": "D01",
        "resolution": "PT15M",
        "master_data_versions": 1,
    }
    # A GSRN whose check digit is wrong is refused, as a problem
    bad = await system.when_a_metering_point_is_registered(
        gsrn[:-1] + str((int(gsrn[-1]) + 1) % 10), grid_area="344", price_area="DK1"
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    docs = await system.get("/docs/openapi.json")
    assert "/api/portfolio/metering-points" in docs["paths"]
    assert "/api/settlement/metering-points/{gsrn}" in docs["paths"]


async def test_c_kill_9_a_consumer_while_1000_events_flow(system: System) -> None:
    gsrns = new_gsrns(1000)
    victim = system.pid("settlement")

    async def killer() -> None:
        while (await system.applied_counts(gsrns)).__len__() < 150:
            await asyncio.sleep(0.05)
        os.kill(victim, signal.SIGKILL)

    kill = asyncio.create_task(killer())
    await system.register(gsrns)
    await kill
    counts = await system.wait_applied(gsrns)
    assert len(counts) == 1000
    assert set(counts.values()) == {1}, "an effect was applied twice"
    assert system.pid("settlement") != victim  # the supervisor restarted it
    # The operator is told what the process said last, beside its exit.
    log = system.log.read_text(errors="replace")
    assert "settlement exited with code -9" in log
    after = log.split("settlement exited with code -9", 1)[1].splitlines()
    assert after[0].endswith("its last lines:") and "  settlement: " in after[1]


async def test_d_broker_restart_topics_recreated_outbox_republished_effects_once(
    system: System,
) -> None:
    before = new_gsrns(200)
    await system.register(before)
    await system.wait_applied(before)
    old_broker = system.pid("kafka")
    old_settlement = system.pid("settlement")

    os.kill(old_broker, signal.SIGKILL)  # Tansu forgets topics, messages and offsets
    for _ in range(200):
        await asyncio.sleep(0.3)
        try:
            if system.pid("kafka") != old_broker and system.pid("settlement") != old_settlement:
                break
        except (FileNotFoundError, ValueError):
            pass
    await system.wait_ready()
    after = new_gsrns(200)
    await system.register(after)

    counts = await system.wait_applied(before + after)
    assert len(counts) == 400 and set(counts.values()) == {1}
    # The restarted settlement received the old events again (re-published) and skipped them.
    for _ in range(100):
        if (
            await system.metric("settlement", "wattline_events_consumed_total", outcome="duplicate")
            >= 200
        ):
            break
        await asyncio.sleep(0.3)
    assert (
        await system.metric("settlement", "wattline_events_consumed_total", outcome="duplicate")
        >= 200
    )


async def test_replay_command_republishes_and_consumers_skip(system: System) -> None:
    gsrns = new_gsrns(50)
    since = datetime.now(UTC)
    await system.register(gsrns)
    await system.wait_applied(gsrns)
    duplicates_before = await system.metric(
        "settlement", "wattline_events_consumed_total", outcome="duplicate"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "wattline",
            "replay",
            "--service",
            "portfolio",
            "--since",
            since.isoformat(),
        ],
        env=system.cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "portfolio: 50 events scheduled" in out.stdout
    for _ in range(100):
        now = await system.metric(
            "settlement", "wattline_events_consumed_total", outcome="duplicate"
        )
        if now - duplicates_before >= 50:
            break
        await asyncio.sleep(0.2)
    assert now - duplicates_before >= 50
    assert set((await system.applied_counts(gsrns)).values()) == {1}


async def test_apikey_cli_scopes_a_key(system: System) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "wattline",
            "apikey",
            "create",
            "--name",
            "erp-e2e",
            "--scopes",
            "settlement:read",
        ],
        env=system.cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = out.stdout.strip().splitlines()[-1]
    async with httpx.AsyncClient(base_url=system.url, headers={"X-API-Key": key}) as client:
        assert (await client.get("/api/settlement/metering-points")).status_code == 200
        denied = await client.post("/api/portfolio/metering-points", json={})
        assert denied.status_code == 403


def test_data_survives_a_restart_and_ctrl_c_leaves_no_process(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    s = System(tmp_path_factory.mktemp("wattline-restart"))
    s.start()
    gsrn = new_gsrns(1)[0]
    asyncio.run(s.register([gsrn]))
    asyncio.run(s.wait_applied([gsrn]))
    pids = [s.pid(name) for name in ("postgres", "kafka", "portfolio", "settlement", "gateway")]
    assert s.stop() == 0
    children = [
        p
        for p in pids
        if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
    ]
    assert children == [], "processes left behind after Ctrl-C"

    s.start()
    try:
        counts = asyncio.run(s.applied_counts([gsrn]))
        assert counts == {gsrn: 1}
    finally:
        assert s.stop() == 0
