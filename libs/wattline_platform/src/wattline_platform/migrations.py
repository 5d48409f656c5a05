"""Plain-SQL migrations per schema: ordered, checksummed, recorded, under an advisory lock.

Every service schema first receives the platform's own migrations (outbox, inbox, relay state)
from ``wattline_platform/sql``; then the service's ``migrations/NNNN_<what>.sql`` files.
Each file is applied in its own transaction and recorded in ``<schema>.schema_migrations``
with its SHA-256; a recorded file whose content has changed is an error, never re-applied.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from wattline_platform.logging import get_logger

PLATFORM_SQL = Path(__file__).parent / "sql"
_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")
_SCHEMA = re.compile(r"^[a-z][a-z0-9_]*$")
log = get_logger(__name__)


class MigrationError(RuntimeError):
    """A migration set is inconsistent with what the database has recorded."""


@dataclass(frozen=True)
class Migration:
    """One SQL file, identified by ``<set>/<file name>``."""

    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load(directory: Path, prefix: str) -> list[Migration]:
    """Read the migration files of *directory* in order; reject badly named files."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        if not _NAME.match(path.name):
            raise MigrationError(f"{path}: name must look like 0001_what.sql")
        migrations.append(Migration(f"{prefix}/{path.name}", path.read_text()))
    return migrations


async def apply(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Apply the pending *migrations* to *schema*; return the names applied."""
    if not _SCHEMA.match(schema):
        raise MigrationError(f"bad schema name {schema!r}")
    lock_key = int.from_bytes(hashlib.sha256(f"migrate:{schema}".encode()).digest()[:8], "big")
    lock_key -= 1 << 63 if lock_key >= 1 << 63 else 0
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                    name text PRIMARY KEY,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        recorded = {
            r["name"]: r["checksum"]
            for r in await conn.fetch(f"SELECT name, checksum FROM {schema}.schema_migrations")
        }
        known = {m.name for m in migrations}
        unknown = sorted(set(recorded) - known)
        if unknown:
            raise MigrationError(f"{schema}: database has migrations this code lacks: {unknown}")
        for m in migrations:
            if m.name in recorded:
                if recorded[m.name] != m.checksum:
                    raise MigrationError(f"{schema}: {m.name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(f"SET LOCAL search_path TO {schema}")
                await conn.execute(m.sql)
                await conn.execute(
                    f"INSERT INTO {schema}.schema_migrations (name, checksum) VALUES ($1, $2)",
                    m.name,
                    m.checksum,
                )
            applied.append(m.name)
            log.info("migration_applied", schema=schema, migration=m.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    return applied


async def pending(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Names of *migrations* not yet recorded in *schema* (used by readiness checks)."""
    exists = await conn.fetchval(
        "SELECT to_regclass($1) IS NOT NULL", f"{schema}.schema_migrations"
    )
    if not exists:
        return [m.name for m in migrations]
    done = {r["name"] for r in await conn.fetch(f"SELECT name FROM {schema}.schema_migrations")}
    return [m.name for m in migrations if m.name not in done]
