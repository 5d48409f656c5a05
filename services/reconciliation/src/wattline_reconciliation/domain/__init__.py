"""Reconciliation domain: pure rules, no I/O."""
