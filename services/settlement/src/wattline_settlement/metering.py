"""Metering data: the store of DataHub's measure data, its consumers and its API."""

from __future__ import annotations

from typing import Any

from wattline_platform.service import Service

ROUTES: list[Any] = []


def register(service: Service) -> None:
    """Subscribe the metering-data handlers."""
    del service
