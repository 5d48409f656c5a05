"""Back-office users log in for a session cookie that acts with their scopes, as an API key
holding them does; a session ends at logout, expiry or when the user is disabled, at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, Request, delete, get
from litestar.params import FromPath
from wattline_gateway.adapters import backoffice as backoffice_repo
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.domain import backoffice
from wattline_gateway.handlers import create_backoffice_user
from wattline_platform import identity, migrations
from wattline_platform.testing import TEST_IDENTITY_KEY, serve_app

GSRN = "571313180400000028"
CSRF = {"X-Requested-By": "wattline-backoffice"}


@pytest.fixture
async def gateway(
    postgres_dsn: str,
) -> AsyncIterator[tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]]]:
    seen: list[identity.Identity] = []

    @get("/api/settlement/metering-points/{gsrn:str}")
    async def point(request: Request[Any, Any, Any], gsrn: FromPath[str]) -> dict[str, str]:
        seen.append(identity.verify(request.headers[identity.IDENTITY_HEADER], TEST_IDENTITY_KEY))
        return {"gsrn": gsrn}

    @delete("/api/settlement/metering-points/{gsrn:str}", status_code=200)
    async def remove(request: Request[Any, Any, Any], gsrn: FromPath[str]) -> dict[str, str]:
        seen.append(identity.verify(request.headers[identity.IDENTITY_HEADER], TEST_IDENTITY_KEY))
        return {"removed": gsrn}

    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        async with serve_app(Litestar([point, remove])) as upstream:
            service = build(
                GatewaySettings(
                    database_url=postgres_dsn,
                    services={"settlement": upstream},
                    failed_auth_per_minute=5,
                )
            )
            async with serve_app(service.app()) as base, httpx.AsyncClient(base_url=base) as client:
                yield client, conn, seen
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def _log_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/session", json={"username": username, "password": password})


async def test_a_login_acts_with_the_users_scopes_until_logout(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, seen = gateway
    password = await create_backoffice_user(conn, "karin", ["settlement:read"])
    assert password is not None
    assert await create_backoffice_user(conn, "karin", ["admin"]) is None  # exists: unchanged
    stored = await conn.fetchval("SELECT password_hash FROM backoffice_users")
    assert stored.startswith("scrypt$") and password not in stored

    assert (await client.get("/api/session")).status_code == 401
    before = datetime.now(UTC)
    login = await _log_in(client, "karin", password)
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["username"] == "karin" and body["scopes"] == ["settlement:read"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=7.9) < expires - before < timedelta(hours=8.1)
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("wattline_session=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here
    token = client.cookies["wattline_session"]
    assert token not in login.text  # never in the body: JavaScript cannot read it
    # Only the token's hash is kept.
    hashes = await conn.fetch("SELECT token_hash FROM backoffice_sessions")
    assert [r["token_hash"] for r in hashes] == [backoffice.hash_token(token)]

    assert (await client.get("/api/session")).json()["username"] == "karin"
    read = await client.get(f"/api/settlement/metering-points/{GSRN}")
    assert read.status_code == 200 and read.json() == {"gsrn": GSRN}
    assert seen[-1].key_name == "user:karin" and seen[-1].scopes == frozenset({"settlement:read"})
    # A read scope: no writes, even with the header.
    refused = await client.delete(f"/api/settlement/metering-points/{GSRN}", headers=CSRF)
    assert refused.status_code == 403 and refused.json()["type"].endswith("forbidden")

    # Login and logout are on the audit trail under the user's name.
    out = await client.delete("/api/session", headers=CSRF)
    assert out.status_code == 204
    assert (
        'wattline_session=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    trail = await conn.fetch("SELECT key_name, method, path, status FROM audit_log ORDER BY id")
    assert [tuple(r) for r in trail if r["path"] == "/api/session"] == [
        ("user:karin", "POST", "/api/session", 200),
        ("user:karin", "DELETE", "/api/session", 204),
    ]
    # Logged out: the same cookie is refused at once.
    client.cookies.set("wattline_session", token)  # as a browser that kept it would
    gone = await client.get(f"/api/settlement/metering-points/{GSRN}")
    assert gone.status_code == 401 and gone.json()["type"].endswith("invalid-session")


async def test_a_cookie_needs_the_back_offices_header_to_change_state(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, seen = gateway
    password = await create_backoffice_user(conn, "ops", ["admin"])
    assert password is not None
    assert (await _log_in(client, "ops", password)).status_code == 200
    forged = await client.delete(f"/api/settlement/metering-points/{GSRN}")
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert forged.json()["type"].endswith("csrf") and "X-Requested-By" in forged.json()["detail"]
    assert seen == []  # never forwarded
    done = await client.delete(f"/api/settlement/metering-points/{GSRN}", headers=CSRF)
    assert done.status_code == 200 and done.json() == {"removed": GSRN}
    assert seen[-1].key_name == "user:ops"
    audited = await conn.fetchval("SELECT key_name FROM audit_log WHERE method = 'DELETE'")
    assert audited == "user:ops"


async def test_wrong_passwords_disabled_users_and_expired_sessions_are_refused(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, _ = gateway
    password = await create_backoffice_user(conn, "lone", ["settlement:read"])
    assert password is not None
    wrong = await _log_in(client, "lone", password + "x")
    assert wrong.status_code == 401 and wrong.json()["type"].endswith("invalid-login")
    assert "set-cookie" not in wrong.headers
    nobody = await _log_in(client, "nobody", password)
    assert nobody.status_code == 401 and nobody.json()["title"] == wrong.json()["title"]
    bad = await client.post("/api/session", json={"username": "lone"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )

    assert (await _log_in(client, "lone", password)).status_code == 200
    await conn.execute(
        "UPDATE backoffice_sessions SET created_at = now() - interval '9 hours',"
        " expires_at = now() - interval '1 hour'"
    )
    expired = await client.get("/api/session")
    assert expired.status_code == 401
    assert (await _log_in(client, "lone", password)).status_code == 200
    await backoffice_repo.disable_user(conn, "lone")
    assert (await client.get("/api/session")).status_code == 401
    assert (await _log_in(client, "lone", password)).status_code == 401


async def test_failed_logins_count_against_the_address(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, _ = gateway
    password = await create_backoffice_user(conn, "target", ["admin"])
    assert password is not None
    statuses = [(await _log_in(client, "target", f"guess-{i}")).status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    # Over the limit even the right password learns nothing.
    right = await _log_in(client, "target", password)
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1


async def test_parallel_guesses_cannot_outrun_the_limit_and_logins_that_succeed_do_not_count(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, _ = gateway
    password = await create_backoffice_user(conn, "busy", ["settlement:read"])
    assert password is not None
    # Eight right logins in a row at a limit of five failures: none of them is a failure.
    for _ in range(8):
        assert (await _log_in(client, "busy", password)).status_code == 200
    # Twelve guesses at once: each is counted before its password is hashed, so only as many
    # as the limit are even tried.
    statuses = await asyncio.gather(*(_log_in(client, "busy", f"g{i}") for i in range(12)))
    assert sorted(r.status_code for r in statuses) == [401] * 5 + [429] * 7


async def test_a_new_login_ends_the_browsers_old_session_and_answers_carry_nosniff(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, _ = gateway
    password = await create_backoffice_user(conn, "again", ["settlement:read"])
    assert password is not None
    first = (await _log_in(client, "again", password)).cookies["wattline_session"]
    second = (await _log_in(client, "again", password)).cookies["wattline_session"]
    assert first != second
    old = await client.get("/api/session", cookies={"wattline_session": first})
    assert old.status_code == 401
    now = await client.get(
        f"/api/settlement/metering-points/{GSRN}", cookies={"wattline_session": second}
    )
    assert now.status_code == 200 and now.headers["x-content-type-options"] == "nosniff"


async def test_a_session_over_https_sets_a_secure_cookie_and_an_api_key_wins(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, _ = gateway
    password = await create_backoffice_user(conn, "tls", ["settlement:read"])
    assert password is not None
    login = await client.post(
        "/api/session",
        json={"username": "tls", "password": password},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in login.headers["set-cookie"]
    client.cookies.set("wattline_session", login.cookies["wattline_session"])
    # A wrong API key beside a good cookie: the key is what is judged.
    keyed = await client.get(
        f"/api/settlement/metering-points/{GSRN}", headers={"X-API-Key": "wl_nope"}
    )
    assert keyed.status_code == 401 and keyed.json()["type"].endswith("invalid-api-key")
