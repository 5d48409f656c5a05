"""Composition root of the invoicing service."""

from __future__ import annotations

from pathlib import Path

from wattline_platform.service import Service, ServiceSpec

from wattline_invoicing import api, consumers
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.jobs import billing
from wattline_invoicing.settings import InvoicingSettings

SPEC = ServiceSpec("invoicing", Path(__file__).resolve().parents[2] / "migrations")

__all__ = ["SPEC", "InvoicingSettings", "build", "wire"]


def wire(settings: InvoicingSettings | None = None) -> Invoicing:
    """The invoicing service and the context its handlers run in."""
    settings = settings or InvoicingSettings()
    inv = Invoicing(Service(SPEC, settings), settings)
    inv.service.route_handlers.extend(api.routes(inv))
    consumers.register(inv)
    if settings.jobs:
        inv.service.background.append(lambda: billing.billing_job(inv))
    return inv


def build(settings: InvoicingSettings | None = None) -> Service:
    """Wire the invoicing service: API, consumers, the billing job."""
    return wire(settings).service
