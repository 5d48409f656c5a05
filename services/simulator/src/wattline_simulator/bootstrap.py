"""Composition root of the DataHub simulator."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.di import Provide
from wattline_platform import identity
from wattline_platform.service import Service, ServiceSpec

from wattline_simulator import api, eds_api, market_api
from wattline_simulator.jobs import served_retention
from wattline_simulator.jobs.catch_up import catch_up
from wattline_simulator.settings import SimulatorService, SimulatorSettings

SPEC = ServiceSpec("simulator", Path(__file__).resolve().parents[2] / "migrations", messaging=False)


def needs_identity(method: str, path: str) -> bool:
    """The control routes (seed, faults, clock moves, what DataHub received...) answer only a
    caller with the gateway's identity, as every service's /api/* does. DataHub's own protocol
    keeps its OAuth, Energi Data Service's prices are public, and two reads stay open for the
    system's own processes, which act for no caller: the market clock every service follows
    and the address register the portfolio looks DAR ids up in."""
    if identity.api_paths(method, path):
        return True
    if not path.startswith("/sim/"):
        return False
    system_read = path == "/sim/clock" or path.startswith("/sim/addresses/")
    return not (method == "GET" and system_read)


def build(settings: SimulatorSettings | None = None) -> SimulatorService:
    """Wire the simulator (HTTP and its own schema: DataHub is not on our bus)."""
    service = Service(SPEC, settings or SimulatorSettings(), identity_required=needs_identity)
    # A clock move runs the catch-up job before it answers (the simulator has no worker):
    # the controllers receive it as ``catch_up``, built here like everything else.
    service.route_handlers.append(
        Router(
            "/",
            route_handlers=[*api.ROUTES, *market_api.ROUTES, *eds_api.ROUTES],
            dependencies={"catch_up": Provide(lambda: catch_up, sync_to_thread=False)},
        )
    )
    if service.settings.served_log_retention_hours > 0:
        service.background.append(served_retention.job(service))
    return service
