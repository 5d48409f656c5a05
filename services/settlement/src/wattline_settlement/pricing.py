"""Prices and charges: spot prices, DataHub's charges and links, our products."""

from __future__ import annotations

from typing import Any

from wattline_platform.service import Service

ROUTES: list[Any] = []


def register(service: Service) -> None:
    """Subscribe the price and charge handlers."""
    del service
