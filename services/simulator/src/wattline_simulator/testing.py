"""Test support: a running simulator as tests see it (its client, service and schema)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from wattline_simulator.settings import SimulatorService, SimulatorSettings


@dataclass
class Sim:
    """A running simulator: its HTTP test client, its service and a connection that sees
    the ``simulator`` schema."""

    client: Any  # litestar.testing.AsyncTestClient
    service: SimulatorService
    db: asyncpg.Connection

    @property
    def settings(self) -> SimulatorSettings:
        settings = self.service.settings
        assert isinstance(settings, SimulatorSettings)
        return settings
