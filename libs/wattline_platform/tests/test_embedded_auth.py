"""The embedded PostgreSQL asks every connection for a password (SCRAM), keeps the generated
passwords private, and moves a data directory made before passwords (trust) onto them."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from wattline_platform.embedded import (
    SUPERUSER,
    EmbeddedPostgres,
    child_preexec,
    free_port,
    read_or_create_secret,
)


def _start(pg: EmbeddedPostgres, uid: int | None, gid: int | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        pg.argv(fast=True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=child_preexec(uid, gid),
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(30)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """A freshly initialised embedded server, running."""
    pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg-auth"), free_port())
    proc = _start(pg, *pg.prepare())
    try:
        asyncio.run(pg.wait_ready(timeout=30))
        yield pg
    finally:
        _stop(proc)


def _url(pg: EmbeddedPostgres, password: str | None = None) -> str:
    credentials = SUPERUSER if password is None else f"{SUPERUSER}:{password}"
    return f"postgresql://{credentials}@127.0.0.1:{pg.port}/postgres"


async def _refused(dsn: str) -> Exception:
    with pytest.raises(asyncpg.PostgresError) as exc:
        conn = await asyncpg.connect(dsn, timeout=5)
        await conn.close()
    return exc.value


@pytest.fixture(autouse=True)
def no_ambient_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No password may come from the environment or a ~/.pgpass the client reads by itself."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


async def test_with_its_password_the_superuser_connects(running: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(running.dsn(database="postgres"))
    try:
        assert await conn.fetchval("SELECT current_user") == SUPERUSER
        methods = await conn.fetch("SELECT DISTINCT auth_method FROM pg_hba_file_rules")
    finally:
        await conn.close()
    assert {m["auth_method"] for m in methods} == {"scram-sha-256"}


async def test_without_a_password_or_with_a_wrong_one_asyncpg_is_refused(
    running: EmbeddedPostgres,
) -> None:
    missing = await _refused(_url(running))
    assert "password" in str(missing).lower()
    wrong = await _refused(_url(running, "not-the-password"))
    assert isinstance(wrong, asyncpg.InvalidPasswordError)


def test_psql_without_a_password_is_refused(running: EmbeddedPostgres) -> None:
    psql = str(running.bin_dir() / "psql")
    base = ["-h", "127.0.0.1", "-p", str(running.port), "-U", SUPERUSER, "-d", "postgres"]
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    env["PGPASSFILE"] = "/nonexistent"
    refused = subprocess.run(
        [psql, "-w", *base, "-c", "SELECT 1"], capture_output=True, env=env, timeout=30
    )
    assert refused.returncode != 0
    assert b"password" in refused.stderr.lower()
    wrong = subprocess.run(
        [psql, "-w", *base, "-c", "SELECT 1"],
        capture_output=True,
        env={**env, "PGPASSWORD": "not-the-password"},
        timeout=30,
    )
    assert wrong.returncode != 0
    assert b"password authentication failed" in wrong.stderr
    right = subprocess.run(
        [psql, "-w", *base, "-tAc", "SELECT 41 + 1"],
        capture_output=True,
        env={**env, "PGPASSWORD": running.password()},
        timeout=30,
    )
    assert right.stdout.strip() == b"42", right.stderr


def test_the_passwords_are_kept_private(running: EmbeddedPostgres) -> None:
    running.password("wattline_portfolio")
    files = sorted(running.secrets_dir.iterdir())
    assert [f.name for f in files] == ["postgres.password", "wattline_portfolio.password"]
    assert stat.S_IMODE(running.secrets_dir.stat().st_mode) == 0o700
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert len(path.read_text().strip()) >= 40
    assert running.password() not in (running.pgdata / "postgresql.conf").read_text()


def test_a_secret_is_made_once_and_then_read(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "r.password"
    made, new = read_or_create_secret(path)
    again, new_again = read_or_create_secret(path)
    assert (new, new_again) == (True, False)
    assert made == again
    assert read_or_create_secret(tmp_path / "secrets" / "other")[0] != made
    path.chmod(0o644)  # loosened by hand: tightened on the next read
    read_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("\n")  # created, never written (the run stopped in between)
    remade, new = read_or_create_secret(path)
    assert new and len(remade) >= 40 and remade != made
    assert read_or_create_secret(path) == (remade, False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _initdb_with_trust(pg: EmbeddedPostgres) -> tuple[int | None, int | None]:
    """A data directory as `prepare` made it before passwords: trust, no password file."""
    pg.pgdata.mkdir()
    uid, gid = pg._run_as()
    if uid is not None and gid is not None:
        os.chown(pg.pgdata, uid, gid)
    subprocess.run(
        [str(pg.bin_dir() / "initdb"), "-D", str(pg.pgdata), "--auth=trust", "-U", SUPERUSER],
        check=True,
        capture_output=True,
        preexec_fn=child_preexec(uid, gid),
    )
    return uid, gid


async def test_a_data_directory_made_with_trust_gets_a_password_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    pg = EmbeddedPostgres(tmp_path, free_port())
    uid, gid = _initdb_with_trust(pg)
    proc = _start(pg, uid, gid)
    try:
        conn = None
        for _ in range(100):
            try:
                conn = await asyncpg.connect(_url(pg), timeout=2)
                break
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(0.2)
        assert conn is not None, "the trust server never answered"
        await conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        await conn.close()
    finally:
        _stop(proc)
    assert not pg.password_file(SUPERUSER).exists()

    proc = _start(pg, *pg.prepare())
    try:
        await pg.wait_ready(timeout=30)
        assert "trust" not in (pg.pgdata / "pg_hba.conf").read_text()
        missing = await _refused(_url(pg))
        assert "password" in str(missing).lower()
        conn = await asyncpg.connect(pg.dsn(database="postgres"))
        try:
            assert await conn.fetchval("SELECT n FROM kept") == 7
        finally:
            await conn.close()
    finally:
        _stop(proc)

    # A second start leaves the password (and the file) as they are.
    password = pg.password()
    proc = _start(pg, *pg.prepare())
    try:
        await pg.wait_ready(timeout=30)
        assert pg.password() == password
    finally:
        _stop(proc)
