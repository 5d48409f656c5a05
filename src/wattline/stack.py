"""Provisioning of the database for the services `wattline up` runs."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg
from wattline_platform import migrations

from wattline.registry import SERVICES


async def provision(admin_dsn: str, logins: Mapping[str, tuple[str, str]]) -> None:
    """For each service in *logins* (service -> (role, password)): its login role with that
    password, owning the service's schema, which no other role may use.

    Idempotent: run at every start, it (re)sets each password to what the caller keeps.
    """
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("SET password_encryption = 'scram-sha-256'")
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for entry in SERVICES:
            schema = entry.spec().db_schema
            if schema is None or entry.name not in logins:
                continue
            role, password = logins[entry.name]
            # Utility statements take no parameters: the server quotes them itself.
            quoted = await conn.fetchrow(
                "SELECT quote_ident($1), quote_literal($2)", role, password
            )
            assert quoted is not None
            ident, secret = quoted
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(f"{verb} ROLE {ident} LOGIN PASSWORD {secret}")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {ident}")
            await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    finally:
        await conn.close()


async def migrate_all(
    admin_dsn: str, roles: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Apply every service's migrations; a service named in *roles* (service -> role) has
    them applied as its role (so it owns what they create)."""
    applied: dict[str, list[str]] = {}
    roles = roles or {}
    conn = await asyncpg.connect(admin_dsn)
    try:
        for entry in SERVICES:
            spec = entry.spec()
            schema = spec.db_schema
            if schema is None:
                continue
            role = roles.get(entry.name)
            if role:
                await conn.execute(
                    f"SET ROLE {await conn.fetchval('SELECT quote_ident($1)', role)}"
                )
            try:
                applied[entry.name] = await migrations.apply(conn, schema, spec.migrations())
            finally:
                if role:
                    await conn.execute("RESET ROLE")
    finally:
        await conn.close()
    return applied
