"""Reconciliation commands and event handlers: one transaction each (state + outbox)."""
