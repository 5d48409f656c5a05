"""Invoicing domain: pure rules, no I/O."""
