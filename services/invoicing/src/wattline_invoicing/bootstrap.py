"""Composition root of the invoicing service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service, ServiceSpec

from wattline_invoicing import api, consumers

SPEC = ServiceSpec("invoicing", Path(__file__).resolve().parents[2] / "migrations")


class InvoicingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_INVOICING_", extra="ignore")

    port: int = 8104


def build(settings: InvoicingSettings | None = None) -> Service:
    """Wire the invoicing service."""
    service = Service(SPEC, settings or InvoicingSettings())
    service.route_handlers.extend(api.ROUTES)
    consumers.register(service)
    return service
