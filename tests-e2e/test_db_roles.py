"""Each service's own database role: it owns its schema, logs in with its own password and can
touch nothing else (as `wattline up` and `wattline migrate` provision them)."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator

import asyncpg
import pytest
from wattline_platform.embedded import (
    EmbeddedPostgres,
    child_preexec,
    free_port,
    service_role,
)

from wattline.cli import service_logins
from wattline.registry import SERVICES
from wattline.stack import embedded_logins, migrate_all, provision


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """An embedded server provisioned and migrated as `wattline up` does it."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg-roles"), free_port())
    uid, gid = server.prepare()
    proc = subprocess.Popen(
        server.argv(fast=True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=child_preexec(uid, gid),
        start_new_session=True,
    )

    async def setup() -> None:
        await server.wait_ready()
        await server.ensure_database()
        await provision(server.admin_dsn, embedded_logins(server))
        await migrate_all(server.admin_dsn, {e.name: service_role(e.name) for e in SERVICES})

    try:
        asyncio.run(setup())
        yield server
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


async def test_a_service_role_reads_its_own_schema_and_owns_its_tables(
    pg: EmbeddedPostgres,
) -> None:
    for entry in SERVICES:
        conn = await asyncpg.connect(pg.service_dsn(entry.name))
        try:
            assert await conn.fetchval(f"SELECT count(*) FROM {entry.schema}.schema_migrations")
            owners = await conn.fetch(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1", entry.schema
            )
        finally:
            await conn.close()
        assert [o["tableowner"] for o in owners] == [service_role(entry.name)], entry.name


async def test_a_service_role_cannot_touch_another_service_s_schema(
    pg: EmbeddedPostgres,
) -> None:
    conn = await asyncpg.connect(pg.service_dsn("portfolio"))
    try:
        for other in ("settlement", "gateway", "invoicing"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM {other}.schema_migrations")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"CREATE TABLE {other}.intruder (n int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (n int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE SCHEMA intruder")
    finally:
        await conn.close()


async def test_a_service_role_needs_its_own_password(pg: EmbeddedPostgres) -> None:
    portfolio = service_role("portfolio")
    url = f"postgresql://{portfolio}:{{}}@127.0.0.1:{pg.port}/wattline"
    for wrong in (pg.password(service_role("settlement")), pg.password(), "guess"):
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(url.format(wrong))
    files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in pg.secrets_dir.iterdir()}
    assert files == {f"{service_role(e.name)}.password": 0o600 for e in SERVICES} | {
        "postgres.password": 0o600
    }


async def test_provisioning_again_sets_the_kept_password(pg: EmbeddedPostgres) -> None:
    """A password file replaced (or a role made before passwords) is what counts next start."""
    role = service_role("simulator")
    pg.password_file(role).unlink()
    await provision(pg.admin_dsn, embedded_logins(pg))  # a new password is made and set
    conn = await asyncpg.connect(pg.service_dsn("simulator"))
    await conn.close()


async def test_a_database_the_superuser_migrated_is_handed_to_the_service_roles(
    pg: EmbeddedPostgres,
) -> None:
    """As docker-compose.yml ran before each service had a role: everything owned by the
    superuser. Provisioning hands each schema, and everything in it, to its service's role."""
    admin = await asyncpg.connect(pg.dsn(database="postgres"))
    try:
        await admin.execute("CREATE DATABASE superuser_migrated")
    finally:
        await admin.close()
    dsn = pg.dsn(database="superuser_migrated")
    await migrate_all(dsn)
    await provision(dsn, embedded_logins(pg))
    assert await migrate_all(dsn, {e.name: service_role(e.name) for e in SERVICES}) == {
        e.name: [] for e in SERVICES
    }
    for entry in SERVICES:
        role = service_role(entry.name)
        conn = await asyncpg.connect(pg.dsn(role, "superuser_migrated"))
        try:
            foreign = await conn.fetch(
                """SELECT c.relname, c.relkind FROM pg_class c
                   WHERE c.relnamespace = $1::regnamespace AND c.relowner <> $2::regrole
                   UNION ALL
                   SELECT p.proname, 'f' FROM pg_proc p
                   WHERE p.pronamespace = $1::regnamespace AND p.proowner <> $2::regrole""",
                entry.schema,
                role,
            )
            assert [(r[0], r[1]) for r in foreign] == [], entry.name
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1", entry.schema
            )
            assert tables, entry.name
            for table in tables:  # every one readable by its service
                await conn.fetchval(f'SELECT count(*) FROM {entry.schema}."{table[0]}"')
        finally:
            await conn.close()


async def test_wattline_migrate_as_compose_runs_it_creates_the_roles_with_their_passwords(
    pg: EmbeddedPostgres,
) -> None:
    """The migrate job's environment: the superuser's DATABASE_URL and every service's own."""
    admin = await asyncpg.connect(pg.dsn(database="postgres"))
    try:
        await admin.execute("CREATE DATABASE compose_like")
    finally:
        await admin.close()
    urls = {
        e.name: f"postgresql://{service_role(e.name)}:compose-{e.name}@127.0.0.1:{pg.port}/compose_like"
        for e in SERVICES
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTLINE_")}
    env["DATABASE_URL"] = pg.dsn(database="compose_like")
    env |= {f"WATTLINE_{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "wattline", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "gateway: " in done.stdout
        for name, url in urls.items():
            conn = await asyncpg.connect(url)  # the password compose gave it
            try:
                owner = await conn.fetchval(
                    "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1", name
                )
                assert owner == service_role(name)
                assert await conn.fetchval(f"SELECT count(*) FROM {name}.schema_migrations")
            finally:
                await conn.close()
    finally:  # the roles are the server's: give them back the passwords kept in their files
        await provision(pg.admin_dsn, embedded_logins(pg))


def test_migrate_takes_the_roles_from_the_services_urls() -> None:
    admin = "postgresql://postgres:admin-pw@postgres:5432/wattline"
    environ = {
        "WATTLINE_PORTFOLIO_DATABASE_URL": "postgresql://wattline_portfolio:p%40ss@postgres/wattline",
        "WATTLINE_GATEWAY_DATABASE_URL": "postgresql://wattline_gateway:gw@postgres/wattline",
        # the superuser's own URL is no role to provision
        "WATTLINE_SETTLEMENT_DATABASE_URL": admin,
    }
    assert service_logins(admin, environ) == {
        "portfolio": ("wattline_portfolio", "p@ss"),
        "gateway": ("wattline_gateway", "gw"),
    }
