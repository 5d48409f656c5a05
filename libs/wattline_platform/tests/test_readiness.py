"""Readiness follows the database and the broker: a service whose PostgreSQL or broker is
stopped answers 503 not-ready naming the check that failed (ready again once the database is
back; the broker is stopped last, as a restarted embedded broker is a new one the service exits
for).

The session's database and broker are shared with every other test, so this one stops its own.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest_asyncio
from litestar.testing import AsyncTestClient
from wattline_platform import migrations
from wattline_platform.config import PlatformSettings, ServiceSettings
from wattline_platform.service import Service, ServiceSpec
from wattline_platform.testing import BrokerHandle, PostgresHandle
from wattline_platform.topics import ensure_topics, load_topics


@pytest_asyncio.fixture(loop_scope="session")
async def own_postgres() -> AsyncIterator[PostgresHandle]:
    handle = PostgresHandle()
    await asyncio.to_thread(handle.start)
    try:
        yield handle
    finally:
        await asyncio.to_thread(handle.stop)
        shutil.rmtree(handle.home, ignore_errors=True)


@pytest_asyncio.fixture(loop_scope="session")
async def own_broker() -> AsyncIterator[BrokerHandle]:
    handle = BrokerHandle()
    await asyncio.to_thread(handle.start)
    try:
        yield handle
    finally:
        handle.stop()


async def _readiness(client: AsyncTestClient[Any], want: int, timeout: float = 30.0) -> Any:
    """The readiness answer once it is *want* (200 or 503); the last one seen on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get("/health/ready")
        if response.status_code == want or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_readiness_reports_the_stopped_database_and_broker(
    own_postgres: PostgresHandle, own_broker: BrokerHandle, tmp_path: Path
) -> None:
    service = Service(
        ServiceSpec("ready", migrations_dir=tmp_path, schema="ready"),
        ServiceSettings(database_url=own_postgres.dsn),
        PlatformSettings(database_url=own_postgres.dsn, kafka_bootstrap=own_broker.bootstrap),
    )
    await ensure_topics(own_broker.bootstrap, load_topics())  # as `wattline up` does first
    conn = await asyncpg.connect(own_postgres.dsn)
    try:
        await migrations.apply(conn, "ready", service.spec.migrations())
    finally:
        await conn.close()
    async with AsyncTestClient(app=service.app()) as client:
        up = await _readiness(client, 200)
        assert up.status_code == 200, up.text
        assert {n: c["ok"] for n, c in up.json()["checks"].items()} == {
            "database": True,
            "migrations": True,
            "broker": True,
        }

        await asyncio.to_thread(own_postgres.stop)
        down = await _readiness(client, 503)
        assert down.status_code == 503, down.text
        checks = down.json()["checks"]
        assert checks["database"]["ok"] is False, checks
        assert checks["broker"]["ok"] is True, checks

        await asyncio.to_thread(own_postgres.start)
        back = await _readiness(client, 200)
        assert back.status_code == 200, back.text

        own_broker.stop()
        down = await _readiness(client, 503)
        assert down.status_code == 503, down.text
        body = down.json()
        assert body["status"] == "not-ready"
        assert body["checks"]["broker"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
        # Alive all the same: an orchestrator must not restart a service for its broker.
        assert (await client.get("/health/live")).status_code == 200
