"""Composition root of the reconciliation service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service, ServiceSpec

from wattline_reconciliation import api, consumers

SPEC = ServiceSpec("reconciliation", Path(__file__).resolve().parents[2] / "migrations")


class ReconciliationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_RECONCILIATION_", extra="ignore")

    port: int = 8105


def build(settings: ReconciliationSettings | None = None) -> Service:
    """Wire the reconciliation service."""
    service = Service(SPEC, settings or ReconciliationSettings())
    service.route_handlers.extend(api.ROUTES)
    consumers.register(service)
    return service
