"""Datahub adapters: the only I/O."""
