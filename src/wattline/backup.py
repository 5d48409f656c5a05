"""`wattline backup` and `wattline restore`: every service's schema in one consistent dump.

A backup is a folder:

* ``database.dump``: pg_dump's custom format of every service's schema, taken in one snapshot
  (all schemas at the same instant, so an outbox row and the effect it was written with are
  both in it or both not);
* ``manifest.json``: when, from which PostgreSQL, the dump's SHA-256 and the number of rows of
  every table *in that same snapshot*, which a restore checks row for row;
* ``keys/`` (mode 700; only for a home's own keys): ``pii.key``, without which the sealed
  personal data in the dump cannot be read, and the home's development API key and back-office
  password, whose hashes are in the dump. Keep it apart from the dump (the dump alone holds no
  readable personal data). A deployment's ``PII_KEY`` lives in its secret store instead.

Roles and passwords are not in a backup: `wattline up` (or the migrate job) makes each service's
role afresh and hands it its schema. A restored system meets an empty broker: its relays see a
new broker epoch and publish their outboxes again, and every consumer's inbox skips what it
had applied, so nothing is applied twice (docs/recovery.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
from wattline_platform.embedded import EmbeddedPostgres

from wattline.registry import SERVICES

FORMAT = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
KEYS = "keys"
# Files of a `wattline up` home that the restored system needs to read its data and let its
# users in: the PII key, and the plain development key and back-office password whose hashes
# are in the gateway's schema.
HOME_KEYS = ("pii.key", "dev-api-key", "backoffice-password")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def schemas() -> list[str]:
    return [entry.schema for entry in SERVICES]


def _libpq(dsn: str) -> tuple[str, dict[str, str]]:
    """*dsn* without its password, and the environment carrying it (a password on a command
    line is readable by every user of the host)."""
    parts = urlsplit(dsn)
    env = dict(os.environ)
    if parts.password is None:
        return dsn, env
    env["PGPASSWORD"] = unquote(parts.password)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), env


async def _tool(name: str, *args: str, dsn: str) -> None:
    """Run the bundled PostgreSQL client *name* against *dsn*; its error as a BackupError."""
    target, env = _libpq(dsn)
    proc = await asyncio.create_subprocess_exec(
        str(EmbeddedPostgres.bin_dir() / name),
        *args,
        f"--dbname={target}",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"{name} failed: {err.decode(errors='replace').strip()[-2000:]}")


async def _row_counts(conn: asyncpg.Connection, names: Iterable[str]) -> dict[str, dict[str, int]]:
    """Rows of every table of the schemas *names*, as the connection's snapshot sees them."""
    tables = await conn.fetch(
        """SELECT n.nspname AS schema, c.relname AS table,
                  format('%I.%I', n.nspname, c.relname) AS qualified
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p')
             AND NOT c.relispartition
           ORDER BY 1, 2""",
        list(names),
    )
    counts: dict[str, dict[str, int]] = {}
    for row in tables:
        rows = await conn.fetchval(f"SELECT count(*) FROM {row['qualified']}")
        counts.setdefault(row["schema"], {})[row["table"]] = rows
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def _new_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: a backup goes into a new folder")
    _private_dir(folder)


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())


@dataclass(frozen=True)
class Made:
    """What a backup holds."""

    folder: Path
    tables: int
    rows: int
    size: int
    keys: list[str]


async def backup(admin_dsn: str, folder: Path, home: Path | None) -> Made:
    """Dump every service's schema from *admin_dsn* into the new *folder*, with the manifest
    counted in the dump's own snapshot and (given the system's *home*) its keys."""
    _new_folder(folder)
    conn = await asyncpg.connect(admin_dsn)
    try:
        present = [
            s
            for s in schemas()
            if await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", s)
        ]
        if not present:
            raise BackupError("the database holds no Wattline schema: nothing to back up")
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            counts = await _row_counts(conn, present)
            # pg_dump reads the very snapshot the counts were taken in (the transaction
            # exporting it stays open until pg_dump is done).
            await _tool(
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={folder / DUMP}",
                *(f"--schema={s}" for s in present),
                dsn=admin_dsn,
            )
        server = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    kept: list[str] = []
    if home is not None:
        found = [name for name in HOME_KEYS if (home / name).is_file()]
        if found:
            _private_dir(folder / KEYS)
            for name in found:
                _copy_private(home / name, folder / KEYS / name)
            kept = found
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": server,
        "dump_sha256": _sha256(folder / DUMP),
        "schemas": counts,
        "keys": kept,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Made(
        folder,
        sum(len(t) for t in counts.values()),
        sum(sum(t.values()) for t in counts.values()),
        (folder / DUMP).stat().st_size,
        kept,
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in *folder*, its dump checked against it."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a Wattline backup (no {MANIFEST})") from None
    except ValueError as exc:
        raise BackupError(f"{folder / MANIFEST} is unreadable: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: backup format {manifest.get('format')!r} is not {FORMAT}")
    dump = folder / DUMP
    if not dump.is_file():
        raise BackupError(f"{folder} has no {DUMP}")
    if _sha256(dump) != manifest.get("dump_sha256"):
        raise BackupError(f"{dump} is not the dump the manifest describes (SHA-256 differs)")
    return manifest


async def restore_database(folder: Path, admin_dsn: str, manifest: dict[str, Any]) -> int:
    """Restore the dump into *admin_dsn*'s database, which must hold none of its schemas, in
    one transaction; then check every table's rows against the manifest. The tables."""
    expected: dict[str, dict[str, int]] = manifest["schemas"]
    conn = await asyncpg.connect(admin_dsn)
    try:
        there = [
            s
            for s in expected
            if await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", s)
        ]
        if there:
            raise BackupError(
                f"the database already holds {', '.join(there)}: restore into a fresh home "
                "(or an empty database)"
            )
        # Objects are made by the superuser here; `wattline up` (provisioning) hands each
        # schema and all in it to the service's own role, as after a migration by compose.
        await _tool(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(folder / DUMP),
            dsn=admin_dsn,
        )
        found = await _row_counts(conn, expected)
    finally:
        await conn.close()
    if found != expected:
        wrong = [
            f"{schema}.{table}: {rows} rows, the backup had {expected[schema].get(table)}"
            for schema in expected
            for table, rows in found.get(schema, {}).items()
            if expected[schema].get(table) != rows
        ]
        raise BackupError("the restored database differs from the backup: " + "; ".join(wrong))
    return sum(len(t) for t in expected.values())


def check_keys(folder: Path, manifest: dict[str, Any], home: Path) -> None:
    """Refuse (before the database is touched) keys that could not be restored: one missing
    from the backup, or a home holding another PII key (its data and the backup's could not
    both be read)."""
    for name in manifest.get("keys", []):
        source, target = folder / KEYS / name, home / name
        if not source.is_file():
            raise BackupError(f"the backup names {KEYS}/{name} but it is missing")
        if target.exists() and target.read_bytes().strip() != source.read_bytes().strip():
            raise BackupError(f"{target} differs from the backup's: restore into a fresh home")


def restore_keys(folder: Path, manifest: dict[str, Any], home: Path) -> list[str]:
    """Put the backup's keys into *home* (mode 600); the names."""
    check_keys(folder, manifest, home)
    names: list[str] = list(manifest.get("keys", []))
    home.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (home / name).exists():
            _copy_private(folder / KEYS / name, home / name)
    return names
