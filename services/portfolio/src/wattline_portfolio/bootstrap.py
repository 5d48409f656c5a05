"""Composition root of the portfolio service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service, ServiceSpec

from wattline_portfolio import api, consumers

SPEC = ServiceSpec("portfolio", Path(__file__).resolve().parents[2] / "migrations")


class PortfolioSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_PORTFOLIO_", extra="ignore")

    port: int = 8101


def build(settings: PortfolioSettings | None = None) -> Service:
    """Wire the portfolio service."""
    service = Service(SPEC, settings or PortfolioSettings())
    service.route_handlers.append(api.MeteringPointController)
    consumers.register(service)
    return service
