"""Composition root of the invoicing service."""

from __future__ import annotations

from pathlib import Path

from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service, ServiceSpec

from wattline_invoicing import api, consumers
from wattline_invoicing.adapters.parties import Parties
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.jobs import billing
from wattline_invoicing.settings import InvoicingSettings

SPEC = ServiceSpec("invoicing", Path(__file__).resolve().parents[2] / "migrations")

__all__ = ["SPEC", "InvoicingSettings", "build", "wire"]


def wire(settings: InvoicingSettings | None = None, cipher: PiiCipher | None = None) -> Invoicing:
    """The invoicing service and the context its handlers run in. Without a PII key bills
    are rendered without the payer's name and address and not sent by e-mail."""
    settings = settings or InvoicingSettings()
    service = Service(SPEC, settings)
    if cipher is None and service.platform.pii_key is not None:
        cipher = PiiCipher(service.platform.pii_key.get_secret_value())
    inv = Invoicing(service, settings, Parties(cipher))
    inv.service.route_handlers.extend(api.routes(inv))
    consumers.register(inv)
    if settings.jobs:
        inv.service.background.append(lambda: billing.billing_job(inv))
        inv.service.background.append(lambda: billing.render_job(inv))
    return inv


def build(settings: InvoicingSettings | None = None) -> Service:
    """Wire the invoicing service: API, consumers, the billing job."""
    return wire(settings).service
