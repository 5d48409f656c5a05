"""The datahub service against the simulator over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from wattline_datahub.adapters.datahub_client import DataHubClient
from wattline_datahub.bootstrap import SPEC, datahub_client
from wattline_datahub.handlers import Datahub, inbound, polling
from wattline_datahub.handlers.inbound import Stored
from wattline_datahub.settings import DatahubSettings
from wattline_platform import migrations
from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app
from wattline_simulator.bootstrap import SPEC as SIM_SPEC
from wattline_simulator.bootstrap import build as build_simulator
from wattline_simulator.settings import SimulatorSettings

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"


@dataclass
class Rig:
    """A datahub service (its schema, no HTTP app) and a simulator served over real HTTP."""

    service: Service
    client: DataHubClient
    sim: httpx.AsyncClient
    settings: DatahubSettings
    dh: Datahub

    async def queue(self, category: str, fixture: str) -> str:
        body = (FIXTURES / fixture).read_bytes()
        response = await self.sim.post(f"/sim/messages/{category}", content=body)
        return str(response.json()["message_id"])

    async def drain(self, category: str) -> list[Stored]:
        """Take *category*'s messages one at a time, each parsed once kept: what each became."""
        results = []
        while taken := await polling.take_one(self.dh, category):
            if taken.outcome == "received":
                [parsed] = await inbound.parse_next(self.service) or []
                taken = parsed.stored
            results.append(taken)
        return results

    async def outbox(self) -> list[dict[str, object]]:
        rows = await self.service.database.fetch("SELECT envelope FROM outbox ORDER BY id")
        return [json.loads(r["envelope"]) for r in rows]


def simulated_datahub(sim_url: str, **overrides: object) -> DatahubSettings:
    """Settings pointing at a simulator served at *sim_url* with its default credential."""
    sim = SimulatorSettings()
    return DatahubSettings(
        url=sim_url,
        token_url=sim_url + "/oauth2/v2.0/token",
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def rig(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(postgres_dsn)
    await conn.execute("DROP SCHEMA IF EXISTS simulator CASCADE")
    await migrations.apply(conn, "simulator", SIM_SPEC.migrations())
    simulator = build_simulator(SimulatorSettings(database_url=postgres_dsn))
    try:
        async with (
            serve_app(simulator.app()) as url,
            httpx.AsyncClient(base_url=url, auth=identity_auth()) as sim,
        ):
            settings = simulated_datahub(url, database_url=postgres_dsn, max_backoff_s=0.2)
            service = Service(SPEC, settings)
            service.db = await make_schema_db(SPEC.migrations_dir)
            client = datahub_client(settings)
            dh = Datahub(service, settings, client, PiiCipher(PiiCipher.new_key()))
            yield Rig(service, client, sim, settings, dh)
            await client.close()
    finally:
        await conn.execute("DROP SCHEMA simulator CASCADE")
        await conn.close()
