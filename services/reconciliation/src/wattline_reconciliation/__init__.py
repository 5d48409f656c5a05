"""Reconciliation: DataHub's RSM-014 totals against Wattline's own."""
