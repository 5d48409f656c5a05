"""Datahub subscriptions: none yet."""

from __future__ import annotations

from wattline_platform.service import Service


def register(service: Service) -> None:
    """Route consumed event types to handlers (none yet)."""
    del service
