"""Simulator market model: pure rules, no I/O."""
