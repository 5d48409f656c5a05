"""SQL for backoffice_users and backoffice_sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Session:
    id: uuid.UUID
    username: str
    scopes: frozenset[str]
    expires_at: datetime


async def insert_user(
    conn: asyncpg.Connection, username: str, password_hash: str, scopes: list[str]
) -> bool:
    """False when *username* exists already."""
    status: str = await conn.execute(
        """INSERT INTO backoffice_users (username, password_hash, scopes) VALUES ($1, $2, $3)
           ON CONFLICT (username) DO NOTHING""",
        username,
        password_hash,
        scopes,
    )
    return status.endswith(" 1")


async def active_user(conn: asyncpg.Connection, username: str) -> tuple[str, frozenset[str]] | None:
    """(password hash, scopes) of an enabled user, else None."""
    row = await conn.fetchrow(
        """SELECT password_hash, scopes FROM backoffice_users
           WHERE username = $1 AND disabled_at IS NULL""",
        username,
    )
    return None if row is None else (row["password_hash"], frozenset(row["scopes"]))


async def disable_user(conn: asyncpg.Connection, username: str) -> bool:
    status: str = await conn.execute(
        """UPDATE backoffice_users SET disabled_at = now()
           WHERE username = $1 AND disabled_at IS NULL""",
        username,
    )
    return status.endswith(" 1")


async def insert_session(
    conn: asyncpg.Connection,
    session_id: uuid.UUID,
    token_hash: str,
    username: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO backoffice_sessions (id, token_hash, username, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5)""",
        session_id,
        token_hash,
        username,
        created_at,
        expires_at,
    )


async def live_session(conn: asyncpg.Connection, token_hash: str, now: datetime) -> Session | None:
    """The unrevoked, unexpired session of an enabled user with *token_hash*, else None."""
    row = await conn.fetchrow(
        """SELECT s.id, s.username, u.scopes, s.expires_at
           FROM backoffice_sessions s JOIN backoffice_users u USING (username)
           WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
             AND u.disabled_at IS NULL""",
        token_hash,
        now,
    )
    if row is None:
        return None
    return Session(row["id"], row["username"], frozenset(row["scopes"]), row["expires_at"])


async def revoke_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE backoffice_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        session_id,
    )


async def revoke_session_by_token(conn: asyncpg.Connection, token_hash: str) -> None:
    await conn.execute(
        "UPDATE backoffice_sessions SET revoked_at = now()"
        " WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash,
    )


async def purge_sessions(conn: asyncpg.Connection, ended_before: datetime) -> None:
    """Delete sessions that expired before *ended_before* (of no use to anyone)."""
    await conn.execute("DELETE FROM backoffice_sessions WHERE expires_at < $1", ended_before)
