"""Shared fixtures: the simulator app on a fresh ``simulator`` schema of the session Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from wattline_platform import migrations
from wattline_platform.testing import identity_auth
from wattline_simulator.bootstrap import SPEC, build
from wattline_simulator.settings import SimulatorSettings
from wattline_simulator.testing import Sim

SimFactory = Callable[..., Any]


@pytest.fixture
async def make_sim(postgres_dsn: str) -> AsyncIterator[SimFactory]:
    """``async with make_sim(**settings) as sim``: the app on a fresh ``simulator`` schema."""
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute("DROP SCHEMA IF EXISTS simulator CASCADE")
    await migrations.apply(admin, "simulator", SPEC.migrations())
    db = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "simulator"})

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Sim]:
        settings = SimulatorSettings(database_url=postgres_dsn, token_ttl_s=60, **overrides)
        service = build(settings)
        async with AsyncTestClient(app=service.app(), timeout=300) as client:
            client.auth = identity_auth()  # as the gateway forwards it
            yield Sim(client, service, db)

    try:
        yield make
    finally:
        await db.close()
        await admin.execute("DROP SCHEMA simulator CASCADE")
        await admin.close()


@pytest.fixture
async def sim(make_sim: SimFactory) -> AsyncIterator[Sim]:
    async with make_sim() as running:
        yield running
