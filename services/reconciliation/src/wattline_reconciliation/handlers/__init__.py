"""Reconciliation use cases: one module each, one transaction each (state + outbox)."""

from __future__ import annotations

from dataclasses import dataclass

from wattline_reconciliation.domain.energy import Tolerance
from wattline_reconciliation.settings import ReconciliationService, ReconciliationSettings


@dataclass
class Reconciliation:
    """What every use case works with: the service (database, outbox) and its settings."""

    service: ReconciliationService
    settings: ReconciliationSettings

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(self.settings.tolerance_kwh, self.settings.tolerance_percent)
