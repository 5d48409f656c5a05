"""Provisioning of the database for the services `wattline up` runs."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg
from wattline_platform import migrations
from wattline_platform.embedded import EmbeddedPostgres, service_role

from wattline.registry import SERVICES

# What in a schema its role does not own yet (it was migrated by the superuser, as compose did
# before each service had a role), as the statements that hand it over. A column's sequence
# (serial, identity) follows its table; indexes follow their tables too.
_HAND_OVER = """
WITH target AS (
    SELECT n.oid AS schema, r.oid AS role, quote_ident(r.rolname) AS name
    FROM pg_namespace n, pg_roles r WHERE n.nspname = $1 AND r.rolname = $2
)
SELECT format('ALTER %s %s OWNER TO %s', o.kind, o.object, target.name)
FROM target, LATERAL (
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,
           c.oid::regclass::text
    FROM pg_class c
    WHERE c.relnamespace = target.schema AND c.relowner <> target.role
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
      AND NOT (c.relkind = 'S' AND EXISTS (
          SELECT 1 FROM pg_depend d
          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
      ))
    UNION ALL
    SELECT 'ROUTINE', p.oid::regprocedure::text
    FROM pg_proc p WHERE p.pronamespace = target.schema AND p.proowner <> target.role
    UNION ALL
    SELECT 'TYPE', t.oid::regtype::text
    FROM pg_type t
    WHERE t.typnamespace = target.schema AND t.typowner <> target.role
      AND t.typtype IN ('e', 'd', 'r')
) AS o(kind, object)
"""


async def provision(admin_dsn: str, logins: Mapping[str, tuple[str, str]]) -> None:
    """For each service in *logins* (service -> (role, password)): its login role with that
    password, owning the service's schema and everything in it, which no other role may use.

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
            await conn.execute(f"ALTER SCHEMA {schema} OWNER TO {ident}")
            for statement in await conn.fetch(_HAND_OVER, schema, role):
                await conn.execute(statement[0])
            await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    finally:
        await conn.close()


def embedded_logins(pg: EmbeddedPostgres) -> dict[str, tuple[str, str]]:
    """Each service's own role and password on the embedded server (generated once, kept in
    <home>/secrets)."""
    return {e.name: (service_role(e.name), pg.password(service_role(e.name))) for e in SERVICES}


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
