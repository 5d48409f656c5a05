"""Composition root of the settlement service."""

from __future__ import annotations

from pathlib import Path

from wattline_platform import metrics as platform_metrics
from wattline_platform.service import Service, ServiceSpec

from wattline_settlement import (
    api,
    consumers,
    metering_api,
    metrics,
    portal_api,
    pricing_api,
)
from wattline_settlement.jobs import runs, spot_import
from wattline_settlement.settings import SettlementService, SettlementSettings

__all__ = ["SPEC", "SettlementSettings", "build"]

SPEC = ServiceSpec("settlement", Path(__file__).resolve().parents[2] / "migrations")


def build(settings: SettlementSettings | None = None) -> SettlementService:
    """Wire the settlement service: API, consumers, the run worker, corrections, schedule."""
    settings = settings or SettlementSettings()
    service: SettlementService = Service(SPEC, settings)
    service.route_handlers.extend(api.ROUTES)
    service.route_handlers.extend(metering_api.ROUTES)
    service.route_handlers.extend(pricing_api.ROUTES)
    service.route_handlers.extend(portal_api.ROUTES)
    consumers.register(service)
    if settings.jobs:
        service.background.append(lambda: runs.run_worker(service))
        service.background.append(lambda: runs.correction_worker(service))
        service.background.append(
            lambda: runs.schedule(service, settings.run_after_days, settings.run_deadline_days)
        )
        service.background.append(lambda: spot_import.import_job(service))
    service.background.append(
        lambda: platform_metrics.refresh_gauges(
            service.database,
            lambda conn: metrics.refresh(conn, service.clock, settings.run_deadline_days),
        )
    )
    return service
