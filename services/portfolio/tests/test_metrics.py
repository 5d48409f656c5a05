"""The portfolio's gauges follow its tables: a signup's process is pending (by kind) until
DataHub confirms it, and the metering point counts as supplied from its activation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import REGISTRY
from wattline_portfolio import metrics

if TYPE_CHECKING:
    from conftest import Rig


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def _refresh(rig: Rig) -> None:
    async with rig.service.database.connection() as conn:
        await metrics.refresh(conn, rig.clock)


async def test_pending_processes_and_active_metering_points(rig: Rig) -> None:
    await _refresh(rig)
    assert _sample("wattline_portfolio_active_metering_points") == 0
    assert _sample("wattline_portfolio_pending_processes", kind="BRS-001") == 0
    assert _sample("wattline_portfolio_oldest_pending_process_seconds", kind="BRS-001") == 0

    point = rig.single(0)
    response = await rig.client.post("/api/signup", json=rig.signup_body(point))
    assert response.status_code == 201, response.text
    await _refresh(rig)
    assert _sample("wattline_portfolio_pending_processes", kind="BRS-001") == 1
    assert _sample("wattline_portfolio_pending_processes", kind="BRS-009") == 0
    oldest = _sample("wattline_portfolio_oldest_pending_process_seconds", kind="BRS-001")
    assert oldest is not None and 0 <= oldest < 60

    moved = rig.single(1)
    await rig.activate(moved, type="move_in", effective_date="2025-02-26")
    await _refresh(rig)
    assert _sample("wattline_portfolio_active_metering_points") == 1
    assert _sample("wattline_portfolio_pending_processes", kind="BRS-009") == 0
    assert _sample("wattline_portfolio_pending_processes", kind="BRS-001") == 1
