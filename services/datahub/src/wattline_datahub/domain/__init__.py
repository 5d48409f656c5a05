"""Datahub domain: pure rules, no I/O."""
