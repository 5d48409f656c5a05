"""Datahub HTTP API: its routes arrive with the issues that build this service."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
