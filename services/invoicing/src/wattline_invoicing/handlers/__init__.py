"""The invoicing service layer: one module per use case, each a transaction (state + outbox)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wattline_invoicing.adapters.mailer import Channel
from wattline_invoicing.adapters.parties import Parties
from wattline_invoicing.settings import InvoicingService, InvoicingSettings


@dataclass
class Invoicing:
    """What every use case works with: the service (database, outbox, clock), settings, the
    opener of the payers' sealed personal data and the channel bills are e-mailed through
    (None: no mail server is configured, nothing is e-mailed)."""

    service: InvoicingService
    settings: InvoicingSettings
    parties: Parties = field(default_factory=lambda: Parties(None))
    email: Channel | None = None
