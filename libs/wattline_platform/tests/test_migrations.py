"""The migration runner against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from wattline_platform import migrations


def _write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


@pytest.fixture
async def scratch(postgres_dsn: str) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """A connection and the name of a schema that is dropped afterwards."""
    schema = f"m_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(postgres_dsn)
    try:
        yield conn, schema
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def test_applies_in_order_records_checksums_and_is_idempotent(
    scratch: tuple[asyncpg.Connection, str], tmp_path: Path
) -> None:
    conn, schema = scratch
    _write(tmp_path, "0001_create.sql", "CREATE TABLE items (id int PRIMARY KEY);")
    _write(tmp_path, "0002_seed.sql", "INSERT INTO items VALUES (1), (2);")
    first = await migrations.apply(conn, schema, migrations.load(tmp_path, "service"))
    again = await migrations.apply(conn, schema, migrations.load(tmp_path, "service"))
    assert first == ["service/0001_create.sql", "service/0002_seed.sql"]
    assert again == []
    assert await conn.fetchval(f"SELECT count(*) FROM {schema}.items") == 2
    recorded = await conn.fetch(
        f"SELECT name, checksum FROM {schema}.schema_migrations ORDER BY name"
    )
    assert [r["name"] for r in recorded] == first
    assert all(len(r["checksum"]) == 64 for r in recorded)


async def test_an_edited_migration_is_refused(
    scratch: tuple[asyncpg.Connection, str], tmp_path: Path
) -> None:
    conn, schema = scratch
    _write(tmp_path, "0001_create.sql", "CREATE TABLE items (id int);")
    await migrations.apply(conn, schema, migrations.load(tmp_path, "service"))
    _write(tmp_path, "0001_create.sql", "CREATE TABLE items (id bigint);")
    with pytest.raises(migrations.MigrationError, match="changed after it was applied"):
        await migrations.apply(conn, schema, migrations.load(tmp_path, "service"))


async def test_a_migration_the_code_lacks_is_refused(
    scratch: tuple[asyncpg.Connection, str], tmp_path: Path
) -> None:
    conn, schema = scratch
    _write(tmp_path, "0001_create.sql", "CREATE TABLE items (id int);")
    await migrations.apply(conn, schema, migrations.load(tmp_path, "service"))
    (tmp_path / "0001_create.sql").unlink()
    with pytest.raises(migrations.MigrationError, match="lacks"):
        await migrations.apply(conn, schema, migrations.load(tmp_path, "service"))


async def test_a_failing_migration_rolls_back_and_is_not_recorded(
    scratch: tuple[asyncpg.Connection, str], tmp_path: Path
) -> None:
    conn, schema = scratch
    _write(tmp_path, "0001_ok.sql", "CREATE TABLE a (id int);")
    _write(tmp_path, "0002_broken.sql", "CREATE TABLE b (id int); SELECT no_such_function();")
    with pytest.raises(asyncpg.PostgresError):
        await migrations.apply(conn, schema, migrations.load(tmp_path, "service"))
    assert await migrations.pending(conn, schema, migrations.load(tmp_path, "service")) == [
        "service/0002_broken.sql"
    ]
    assert await conn.fetchval("SELECT to_regclass($1)", f"{schema}.b") is None


async def test_concurrent_runners_apply_each_migration_once(
    scratch: tuple[asyncpg.Connection, str], postgres_dsn: str, tmp_path: Path
) -> None:
    conn, schema = scratch
    _write(tmp_path, "0001_create.sql", "CREATE TABLE log (n int);")
    _write(tmp_path, "0002_insert.sql", "INSERT INTO log VALUES (1);")
    others = [await asyncpg.connect(postgres_dsn) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(
                migrations.apply(c, schema, migrations.load(tmp_path, "service"))
                for c in [conn, *others]
            )
        )
    finally:
        for c in others:
            await c.close()
    assert sorted(len(r) for r in results) == [0, 0, 0, 2]
    assert await conn.fetchval(f"SELECT count(*) FROM {schema}.log") == 1


def test_badly_named_files_are_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "create_things.sql", "SELECT 1;")
    with pytest.raises(migrations.MigrationError, match=r"0001_what\.sql"):
        migrations.load(tmp_path, "service")
