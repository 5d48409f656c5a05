"""Invoicing adapters: the only I/O."""
