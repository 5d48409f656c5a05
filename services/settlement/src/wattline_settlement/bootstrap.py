"""Composition root of the settlement service."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform import metrics as platform_metrics
from wattline_platform.config import ServiceSettings
from wattline_platform.service import Service, ServiceSpec

from wattline_settlement import api, consumers, metering, metrics, portal, pricing, runs

SPEC = ServiceSpec("settlement", Path(__file__).resolve().parents[2] / "migrations")


class SettlementSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_SETTLEMENT_", extra="ignore")

    port: int = 8103
    vat_rate: Decimal = Field(default=Decimal("0.25"), description="Danish VAT (moms)")
    run_after_days: int = Field(
        default=5,
        ge=0,
        description=(
            "days after a month ends before the schedule may start its settlement run (5: "
            "from the 6th of the next month); it starts then only once the month's metering "
            "data is complete (every local day of each supply period, every value)"
        ),
    )
    run_deadline_days: int = Field(
        default=10,
        ge=0,
        description=(
            "days after a month ends when the schedule starts its settlement run even with "
            "metering data still missing (not before run_after_days); what cannot be settled "
            "then is blocked and run again until it is"
        ),
    )
    jobs: bool = Field(default=True, description="run the run worker, corrections and schedule")


def build(settings: SettlementSettings | None = None) -> Service:
    """Wire the settlement service: API, consumers, the run worker, corrections, schedule."""
    settings = settings or SettlementSettings()
    service = Service(SPEC, settings)
    service.route_handlers.extend(api.ROUTES)
    service.route_handlers.extend(metering.ROUTES)
    service.route_handlers.extend(pricing.ROUTES)
    service.route_handlers.extend(portal.ROUTES)
    consumers.register(service)
    if settings.jobs:
        service.background.append(lambda: runs.run_worker(service))
        service.background.append(lambda: runs.correction_worker(service))
        service.background.append(
            lambda: runs.schedule(service, settings.run_after_days, settings.run_deadline_days)
        )
        service.background.append(lambda: pricing.import_job(service))
    service.background.append(
        lambda: platform_metrics.refresh_gauges(
            service.database,
            lambda conn: metrics.refresh(conn, service.clock, settings.run_deadline_days),
        )
    )
    return service
