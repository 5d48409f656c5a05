"""Portal tokens at the gateway: issued by back office for one customer, stored hashed, they
reach only the portal's GET routes, carry the customer in the signed identity, and are refused
once expired or revoked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, Request, get
from litestar.params import FromPath
from wattline_gateway.bootstrap import SPEC, GatewaySettings, build
from wattline_gateway.domain import portal_tokens
from wattline_gateway.handlers import create_api_key
from wattline_platform import identity, migrations
from wattline_platform.testing import TEST_IDENTITY_KEY, serve_app

CUSTOMER = "6f1c1b6e-2f57-4a3e-9d0a-3c2b1a000001"


@pytest.fixture
async def gateway(
    postgres_dsn: str, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]]]:
    extra: dict[str, Any] = getattr(request, "param", {})  # more GatewaySettings, indirectly
    seen: list[identity.Identity] = []

    @get(["/api/settlement/{rest:path}"], include_in_schema=False)
    async def echo(request: Request[Any, Any, Any], rest: FromPath[str]) -> dict[str, str]:
        seen.append(identity.verify(request.headers[identity.IDENTITY_HEADER], TEST_IDENTITY_KEY))
        return {"rest": rest}

    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", SPEC.migrations())
    try:
        # Both over real HTTP in this loop (see test_aliases.py).
        async with serve_app(Litestar([echo])) as upstream:
            service = build(
                GatewaySettings(
                    database_url=postgres_dsn,
                    services={"settlement": upstream},
                    portal_token_ttl_minutes=30,
                    **extra,
                )
            )
            async with serve_app(service.app()) as base, httpx.AsyncClient(base_url=base) as client:
                yield client, conn, seen
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def test_back_office_issues_a_token_that_reaches_only_the_portal(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, seen = gateway
    issuer = await create_api_key(conn, "backoffice", ["portal:issue"])
    reader = await create_api_key(conn, "reader", ["settlement:read"])

    # Only a key with portal:issue may issue, and only for a customer id.
    refused = await client.post(
        "/api/portal-tokens", json={"customer_id": CUSTOMER}, headers={"X-API-Key": reader}
    )
    assert refused.status_code == 403
    bad = await client.post(
        "/api/portal-tokens",
        json={"customer_id": "x" * 36},
        headers={"X-API-Key": issuer},
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")

    before = datetime.now(UTC)
    issued = await client.post(
        "/api/portal-tokens", json={"customer_id": CUSTOMER}, headers={"X-API-Key": issuer}
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    token = body["token"]
    assert token.startswith("wp_")
    assert body["customer_id"] == CUSTOMER
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=29) < expires - before <= timedelta(minutes=30, seconds=5)
    stored = await conn.fetchrow("SELECT token_hash, customer_id FROM portal_tokens")
    assert stored["token_hash"] == portal_tokens.hash_token(token) != token
    assert stored["customer_id"] == CUSTOMER

    # The portal's reads: forwarded with an identity bound to the customer, portal:read only.
    auth = {"Authorization": f"Bearer {token}"}
    ok = await client.get("/api/settlement/portal/metering-points", headers=auth)
    assert ok.status_code == 200, ok.text
    assert seen[-1].customer == CUSTOMER
    assert seen[-1].scopes == frozenset({"portal:read"})
    assert seen[-1].channel is None

    # Nothing else: back-office routes, writes, aliases, the gateway's own routes.
    for method, path in (
        ("GET", "/api/settlement/metering-points"),
        ("POST", "/api/settlement/portal/metering-points"),
        ("GET", "/api/metering-points/571313000000000001/consumption"),
        ("GET", "/api/audit"),
        ("POST", "/api/portal-tokens"),
    ):
        answer = await client.request(method, path, headers=auth, json={"customer_id": CUSTOMER})
        assert answer.status_code == 403, (method, path, answer.text)
    assert len(seen) == 1

    # Revoked: refused at once.
    revoked = await client.delete(
        f"/api/portal-tokens/{body['token_id']}", headers={"X-API-Key": issuer}
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is True
    after = await client.get("/api/settlement/portal/metering-points", headers=auth)
    assert after.status_code == 401
    assert after.json()["type"].endswith("/invalid-portal-token")
    unknown = await client.delete(
        f"/api/portal-tokens/{uuid.uuid4()}", headers={"X-API-Key": issuer}
    )
    assert unknown.json()["revoked"] is False


async def test_an_expired_or_forged_token_is_refused(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, seen = gateway
    issuer = portal_tokens.BackOfficeIssuer(timedelta(minutes=1))
    old = issuer.issue(CUSTOMER, datetime.now(UTC) - timedelta(minutes=2))
    from wattline_gateway.adapters import portal_tokens as repo

    await repo.insert(conn, old, uuid.uuid4())
    expired = await client.get(
        "/api/settlement/portal/x", headers={"Authorization": f"Bearer {old.secret}"}
    )
    assert expired.status_code == 401
    forged = old.secret[:-3] + "abc"
    assert (
        await client.get("/api/settlement/portal/x", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401
    assert (
        await client.get("/api/settlement/portal/x", headers={"Authorization": "Bearer wp_nope"})
    ).status_code == 401
    assert seen == []


@pytest.mark.parametrize("gateway", [{"portal_rate_limit_per_minute": 3}], indirect=True)
async def test_a_customers_portal_rate_limit_is_the_deployments(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    # WATTLINE_GATEWAY_PORTAL_RATE_LIMIT_PER_MINUTE: the fuzz test raises it, as it raises an
    # API key's, so that 429s hide nothing behind the gateway.
    client, conn, seen = gateway
    issuer = await create_api_key(conn, "backoffice", ["portal:issue"])
    issued = await client.post(
        "/api/portal-tokens", json={"customer_id": CUSTOMER}, headers={"X-API-Key": issuer}
    )
    auth = {"Authorization": f"Bearer {issued.json()['token']}"}
    statuses = [
        (await client.get("/api/settlement/portal/x", headers=auth)).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert len(seen) == 3


def test_the_issuer_binds_one_customer_and_bounds_the_lifetime() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = portal_tokens.BackOfficeIssuer(timedelta(hours=1)).issue(CUSTOMER.upper(), now)
    assert token.customer_id == CUSTOMER
    assert token.expires_at == now + timedelta(hours=1)
    assert portal_tokens.parse_prefix(token.secret) == token.prefix
    with pytest.raises(portal_tokens.InvalidTtl):
        portal_tokens.BackOfficeIssuer(timedelta(days=2))
    assert portal_tokens.reaches("invoicing", "/portal/invoices", "GET")
    assert not portal_tokens.reaches("invoicing", "/invoices", "GET")
    assert not portal_tokens.reaches("invoicing", "/portal/invoices", "POST")
    assert not portal_tokens.reaches("datahub", "/portal/x", "GET")


async def test_issuing_and_revoking_are_audited_and_a_customer_loses_every_token(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, _ = gateway
    issuer = await create_api_key(conn, "backoffice", ["portal:issue"])
    other = "6f1c1b6e-2f57-4a3e-9d0a-3c2b1a000002"
    head = {"X-API-Key": issuer}
    tokens = []
    for customer in (CUSTOMER, CUSTOMER, other):
        issued = await client.post(
            "/api/portal-tokens", json={"customer_id": customer}, headers=head
        )
        assert issued.status_code == 201, issued.text
        tokens.append(issued.json()["token"])
    # A token long expired is purged when the next is issued.
    from wattline_gateway.adapters import portal_tokens as repo

    ancient = portal_tokens.BackOfficeIssuer(timedelta(minutes=1)).issue(
        CUSTOMER, datetime.now(UTC) - timedelta(days=8)
    )
    await repo.insert(conn, ancient, uuid.uuid4())
    assert await client.post("/api/portal-tokens", json={"customer_id": other}, headers=head)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM portal_tokens WHERE token_id = $1", ancient.token_id
        )
        == 0
    )

    bad = await client.delete("/api/portal-tokens", params={"customer_id": "x"}, headers=head)
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    revoked = await client.delete(
        "/api/portal-tokens", params={"customer_id": CUSTOMER}, headers=head
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"customer_id": CUSTOMER, "revoked": 2}
    statuses = [
        (
            await client.get("/api/settlement/portal/x", headers={"Authorization": f"Bearer {t}"})
        ).status_code
        for t in tokens
    ]
    assert statuses == [401, 401, 200]  # the other customer's token still works

    trail = await conn.fetch(
        "SELECT method, path, target, status, key_name FROM audit_log ORDER BY id"
    )
    assert [(r["method"], r["target"], r["status"]) for r in trail] == [
        ("POST", CUSTOMER, 201),
        ("POST", CUSTOMER, 201),
        ("POST", other, 201),
        ("POST", other, 201),
        ("DELETE", CUSTOMER, 200),
    ]
    assert {r["key_name"] for r in trail} == {"backoffice"}


async def test_a_token_is_issued_and_audited_under_the_customers_one_spelling(
    gateway: tuple[httpx.AsyncClient, asyncpg.Connection, list[identity.Identity]],
) -> None:
    client, conn, _ = gateway
    head = {"X-API-Key": await create_api_key(conn, "backoffice", ["portal:issue"])}
    issued = await client.post(
        "/api/portal-tokens", json={"customer_id": CUSTOMER.upper()}, headers=head
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["customer_id"] == CUSTOMER
    # 36 characters, but no customer id: refused before it goes on record.
    nul = await client.post(
        "/api/portal-tokens", json={"customer_id": CUSTOMER[:-1] + "\x00"}, headers=head
    )
    assert nul.status_code == 400, nul.text
    assert nul.headers["content-type"].startswith("application/problem+json")
    trail = await conn.fetch("SELECT method, target, status FROM audit_log ORDER BY id")
    assert [(r["method"], r["target"], r["status"]) for r in trail] == [("POST", CUSTOMER, 201)]
    # A search of the trail by the customer's id finds who gave them access.
    revoked = await client.delete(
        "/api/portal-tokens", params={"customer_id": CUSTOMER.upper()}, headers=head
    )
    assert revoked.json() == {"customer_id": CUSTOMER, "revoked": 1}
