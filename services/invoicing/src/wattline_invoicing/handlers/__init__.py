"""The invoicing service layer: one module per use case, each a transaction (state + outbox)."""

from __future__ import annotations

from dataclasses import dataclass

from wattline_platform.service import Service

from wattline_invoicing.settings import InvoicingSettings


@dataclass
class Invoicing:
    """What every use case works with: the service (database, outbox, clock) and settings."""

    service: Service
    settings: InvoicingSettings
