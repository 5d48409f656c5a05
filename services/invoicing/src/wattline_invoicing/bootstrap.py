"""Composition root of the invoicing service."""

from __future__ import annotations

from pathlib import Path

from wattline_platform.logging import get_logger
from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service, ServiceSpec

from wattline_invoicing import api, consumers, portal_api, webhooks_api
from wattline_invoicing.adapters.mailer import SmtpChannel
from wattline_invoicing.adapters.parties import Parties
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.jobs import billing, delivery
from wattline_invoicing.jobs import webhooks as webhook_jobs
from wattline_invoicing.settings import InvoicingService, InvoicingSettings

SPEC = ServiceSpec("invoicing", Path(__file__).resolve().parents[2] / "migrations")

__all__ = ["SPEC", "InvoicingSettings", "build", "email_channel", "wire"]
log = get_logger(__name__)


def wire(settings: InvoicingSettings | None = None, cipher: PiiCipher | None = None) -> Invoicing:
    """The invoicing service and the context its handlers run in. Without a PII key bills
    are rendered without the payer's name and address and not sent by e-mail."""
    settings = settings or InvoicingSettings()
    service = Service(SPEC, settings)
    if cipher is None and service.platform.pii_key is not None:
        cipher = PiiCipher(service.platform.pii_key.get_secret_value())
    inv = Invoicing(service, settings, Parties(cipher), email_channel(settings))
    inv.service.route_handlers.extend(api.routes(inv))
    inv.service.route_handlers.extend(webhooks_api.routes(inv, cipher))
    inv.service.route_handlers.extend(portal_api.routes(inv))
    consumers.register(inv)
    if settings.jobs:
        inv.service.background.append(lambda: billing.billing_job(inv))
        inv.service.background.append(lambda: billing.render_job(inv))
        inv.service.background.append(lambda: webhook_jobs.webhook_job(inv, cipher))
        if inv.email is None or not inv.parties.available:
            # Deliveries are still created with every document: they wait, pending.
            log.warning(
                "email_delivery_off",
                reason="no smtp_url" if inv.email is None else "no PII key",
            )
        else:
            inv.service.background.append(lambda: delivery.delivery_job(inv))
    return inv


def email_channel(settings: InvoicingSettings) -> SmtpChannel | None:
    """The mail server of ``smtp_url`` (None: unset, nothing is e-mailed)."""
    if settings.smtp_url is None:
        return None
    password = settings.smtp_password
    return SmtpChannel.from_url(
        settings.smtp_url,
        sender=settings.smtp_from,
        default_sender_name=settings.supplier.name,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=None if password is None else password.get_secret_value(),
        timeout_s=settings.smtp_timeout_s,
    )


def build(settings: InvoicingSettings | None = None) -> InvoicingService:
    """Wire the invoicing service: API, consumers, the billing job."""
    return wire(settings).service
