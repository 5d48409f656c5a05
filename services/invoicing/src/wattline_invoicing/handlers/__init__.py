"""The invoicing service layer: one module per use case, each a transaction (state + outbox)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wattline_platform.service import Service

from wattline_invoicing.adapters.parties import Parties
from wattline_invoicing.settings import InvoicingSettings


@dataclass
class Invoicing:
    """What every use case works with: the service (database, outbox, clock), settings and
    the opener of the payers' sealed personal data."""

    service: Service
    settings: InvoicingSettings
    parties: Parties = field(default_factory=lambda: Parties(None))
