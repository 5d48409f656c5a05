"""Composition root of the DataHub simulator."""

from __future__ import annotations

from pathlib import Path

from wattline_platform.service import Service, ServiceSpec

from wattline_simulator import api, eds_api, market_api
from wattline_simulator.settings import SimulatorSettings

SPEC = ServiceSpec("simulator", Path(__file__).resolve().parents[2] / "migrations", messaging=False)


def build(settings: SimulatorSettings | None = None) -> Service:
    """Wire the simulator (HTTP and its own schema: DataHub is not on our bus)."""
    service = Service(SPEC, settings or SimulatorSettings())
    service.route_handlers.extend(api.ROUTES)
    service.route_handlers.extend(market_api.ROUTES)
    service.route_handlers.extend(eds_api.ROUTES)
    return service
