"""Composition root of the DataHub simulator."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service, ServiceSpec

from wattline_simulator import api

SPEC = ServiceSpec("simulator", migrations_dir=None, messaging=False)


class SimulatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_SIMULATOR_", extra="ignore")

    port: int = 8106


def build(settings: SimulatorSettings | None = None) -> Service:
    """Wire the simulator (HTTP only: DataHub is not on our bus)."""
    service = Service(SPEC, settings or SimulatorSettings())
    service.route_handlers.extend(api.ROUTES)
    return service
