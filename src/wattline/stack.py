"""Provisioning of the database for the services `wattline up` runs."""

from __future__ import annotations

import asyncpg
from wattline_platform import migrations
from wattline_platform.embedded import DATABASE

from wattline.registry import SERVICES


async def provision(port: int) -> None:
    """Create the database and one role per service owning exactly its schema."""
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await conn.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await conn.close()
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}")
    try:
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for entry in SERVICES:
            schema = entry.spec().db_schema
            if schema is None:
                continue
            role = f"wattline_{entry.name}"
            if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                await conn.execute(f"CREATE ROLE {role} LOGIN")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}")
            await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    finally:
        await conn.close()


async def migrate_all(admin_dsn: str, *, as_service_roles: bool) -> dict[str, list[str]]:
    """Apply every service's migrations; with *as_service_roles* each runs as its owner role."""
    applied: dict[str, list[str]] = {}
    conn = await asyncpg.connect(admin_dsn)
    try:
        for entry in SERVICES:
            spec = entry.spec()
            schema = spec.db_schema
            if schema is None:
                continue
            if as_service_roles:
                await conn.execute(f"SET ROLE wattline_{entry.name}")
            try:
                applied[entry.name] = await migrations.apply(conn, schema, spec.migrations())
            finally:
                if as_service_roles:
                    await conn.execute("RESET ROLE")
    finally:
        await conn.close()
    return applied
