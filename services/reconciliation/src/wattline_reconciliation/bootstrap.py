"""Composition root of the reconciliation service."""

from __future__ import annotations

from pathlib import Path

from wattline_platform.service import Service, ServiceSpec

from wattline_reconciliation import api, consumers
from wattline_reconciliation.handlers import Reconciliation
from wattline_reconciliation.jobs.reconcile import reconcile_job
from wattline_reconciliation.settings import ReconciliationService, ReconciliationSettings

SPEC = ServiceSpec("reconciliation", Path(__file__).resolve().parents[2] / "migrations")

__all__ = ["SPEC", "ReconciliationSettings", "build", "wire"]


def wire(settings: ReconciliationSettings | None = None) -> Reconciliation:
    """The reconciliation service and the context its handlers run in."""
    settings = settings or ReconciliationSettings()
    rec = Reconciliation(Service(SPEC, settings), settings)
    rec.service.route_handlers.extend(api.routes(rec))
    consumers.register(rec)
    if settings.jobs:
        rec.service.background.append(lambda: reconcile_job(rec))
    return rec


def build(settings: ReconciliationSettings | None = None) -> ReconciliationService:
    """Wire the reconciliation service: API, consumers, the reconciliation job."""
    return wire(settings).service
