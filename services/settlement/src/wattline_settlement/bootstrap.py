"""Composition root of the settlement service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service, ServiceSpec

from wattline_settlement import api, consumers, metering, pricing

SPEC = ServiceSpec("settlement", Path(__file__).resolve().parents[2] / "migrations")


class SettlementSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_SETTLEMENT_", extra="ignore")

    port: int = 8103


def build(settings: SettlementSettings | None = None) -> Service:
    """Wire the settlement service."""
    service = Service(SPEC, settings or SettlementSettings())
    service.route_handlers.append(api.MeteringPointController)
    service.route_handlers.extend(metering.ROUTES)
    service.route_handlers.extend(pricing.ROUTES)
    consumers.register(service)
    return service
