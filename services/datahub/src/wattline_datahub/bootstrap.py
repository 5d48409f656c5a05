"""Composition root of the datahub service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service, ServiceSpec

from wattline_datahub import api, consumers

SPEC = ServiceSpec("datahub", Path(__file__).resolve().parents[2] / "migrations")


class DatahubSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_DATAHUB_", extra="ignore")

    port: int = 8102


def build(settings: DatahubSettings | None = None) -> Service:
    """Wire the datahub service."""
    service = Service(SPEC, settings or DatahubSettings())
    service.route_handlers.extend(api.ROUTES)
    consumers.register(service)
    return service
