"""Simulator HTTP API: the DataHub B2B endpoints arrive with the DataHub issue."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
