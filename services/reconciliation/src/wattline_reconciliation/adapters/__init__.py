"""Reconciliation adapters: the only I/O."""
