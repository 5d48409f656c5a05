"""Simulator adapters."""
