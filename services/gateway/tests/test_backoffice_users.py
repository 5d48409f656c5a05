"""The back office's users from the command line: `wattline up` makes admin once (its
password in system.json), `wattline user add` makes others and prints the password once."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner
from wattline_gateway.bootstrap import SPEC
from wattline_gateway.handlers import log_in
from wattline_platform import migrations
from wattline_platform.db import Database

from wattline import cli, system
from wattline.supervisor import Supervisor


@pytest.fixture
async def gateway_db(postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        yield conn
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def _logs_in(dsn: str, username: str, password: str) -> list[str] | None:
    db = Database(dsn, "gateway")
    await db.open()
    try:
        new = await log_in(db, username, password, timedelta(hours=1))
    finally:
        await db.close()
    return None if new is None else sorted(new.session.scopes)


async def test_user_add_prints_a_password_that_logs_in_once(
    gateway_db: asyncpg.Connection, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_dsn)
    runner = CliRunner()
    added = await asyncio.to_thread(
        runner.invoke, cli.app, ["user", "add", "karin", "--scope", "settlement:read",
                                 "--scope", "invoicing:write"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    password = added.stdout.strip()
    assert len(password) >= 24
    assert await _logs_in(postgres_dsn, "karin", password) == [
        "invoicing:write",
        "settlement:read",
    ]
    assert await _logs_in(postgres_dsn, "karin", "not-it") is None
    again = await asyncio.to_thread(runner.invoke, cli.app, ["user", "add", "karin"])
    assert again.exit_code == 2 and "exists" in again.output
    bad = await asyncio.to_thread(runner.invoke, cli.app, ["user", "add", "x", "--scope", "god"])
    assert bad.exit_code == 2 and "invalid scopes" in bad.output
    shouty = await asyncio.to_thread(runner.invoke, cli.app, ["user", "add", "Karin Q"])
    assert shouty.exit_code == 2 and "invalid username" in shouty.output
    assert await gateway_db.fetchval("SELECT count(*) FROM backoffice_users") == 1


async def test_up_makes_admin_once_and_records_its_login_privately(
    gateway_db: asyncpg.Connection, postgres_dsn: str, tmp_path: Path
) -> None:
    supervisor = Supervisor(tmp_path, database_url=postgres_dsn)
    # What run() has set by the time it announces the system.
    supervisor.admin_dsn, supervisor.bootstrap, supervisor.pg = postgres_dsn, "127.0.0.1:9", None
    first = await supervisor._backoffice_login()
    assert first["username"] == "admin"
    restarted = Supervisor(tmp_path, database_url=postgres_dsn)  # a restart: the same home
    restarted.admin_dsn = postgres_dsn
    again = await restarted._backoffice_login()
    assert again == first
    assert await gateway_db.fetchval("SELECT count(*) FROM backoffice_users") == 1
    assert await _logs_in(postgres_dsn, "admin", first["password"]) == ["admin"]

    written = supervisor._describe(first)
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert json.loads(written.read_text())["backoffice"] == first
    assert system.load(tmp_path).backoffice == first
