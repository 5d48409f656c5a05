"""The gateway's signed identity: genuine and fresh or refused, and every /api/* route behind it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from litestar import get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from pydantic import BaseModel, SecretStr
from wattline_platform import identity
from wattline_platform.config import PlatformSettings, ServiceSettings
from wattline_platform.identity import (
    FOR_CHANNELS,
    IDENTITY_HEADER,
    Identity,
    IdentityDep,
    InvalidIdentity,
    sign,
    verify,
)
from wattline_platform.service import Service, ServiceSpec
from wattline_platform.testing import TEST_IDENTITY_KEY, identity_headers

KEY = "k" * 64  # long enough for HS384 too (the "another algorithm" token)
SHOP = Identity("5f0c", "shop", frozenset({"signup:write"}), channel="shop")


def _token(algorithm: str = "HS256", **changes: Any) -> str:
    """A token as the gateway signs one, with *changes* to its claims (None: left out)."""
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "aud": identity.AUDIENCE,
        "iss": identity.ISSUER,
        "sub": "1",
        "name": "x",
        "scopes": ["admin"],
        "iat": now,
        "exp": now + 60,
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, None if algorithm == "none" else KEY, algorithm=algorithm)


def test_a_signed_identity_comes_back_as_it_went() -> None:
    assert verify(sign(SHOP, KEY), KEY) == SHOP
    office = Identity("77", "office", frozenset({"admin"}))
    assert verify(sign(office, KEY), KEY) == office
    assert verify(_token(), KEY).scopes == {"admin"}  # the helper below makes genuine ones


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(sign(SHOP, "x" * 40), id="another key"),
        pytest.param(sign(SHOP, KEY, now=datetime.now(UTC) - timedelta(minutes=2)), id="expired"),
        pytest.param(
            sign(SHOP, KEY, now=datetime.now(UTC) + timedelta(minutes=5)), id="from the future"
        ),
        pytest.param(_token(aud="someone-else"), id="another audience"),
        pytest.param(_token(iss="someone-else"), id="another issuer"),
        pytest.param(_token(exp=None), id="no expiry"),
        pytest.param(_token(algorithm="none"), id="unsigned (alg none)"),
        pytest.param(_token(algorithm="HS384"), id="another algorithm"),
        pytest.param(_token(scopes="admin"), id="malformed scopes"),
        pytest.param(sign(SHOP, KEY)[:-3] + "AAA", id="tampered signature"),
        pytest.param("not-a-token", id="garbage"),
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    with pytest.raises(InvalidIdentity):
        verify(token, KEY)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        sign(SHOP, "short")


class Body(BaseModel):
    n: int


@get("/api/demo/whoami", opt=FOR_CHANNELS)
async def whoami(identity: IdentityDep) -> dict[str, Any]:
    return {"name": identity.key_name, "channel": identity.channel}


@post("/api/demo/things")
async def make(data: JSONBody[Body]) -> dict[str, int]:
    return {"n": data.n}


@get("/api/demo/everyone")  # not marked FOR_CHANNELS: it shows everything
async def everyone() -> dict[str, str]:
    return {"seen": "all"}


def _service(key: str | None) -> Service:
    return Service(
        ServiceSpec("demo", None, messaging=False),
        ServiceSettings(),
        PlatformSettings(identity_key=SecretStr(key) if key else None),
        route_handlers=[whoami, make, everyone],
    )


async def test_a_service_answers_api_only_with_a_genuine_identity() -> None:
    async with AsyncTestClient(app=_service(TEST_IDENTITY_KEY).app()) as client:
        expired = sign(SHOP, TEST_IDENTITY_KEY, now=datetime.now(UTC) - timedelta(seconds=90))
        for headers in [
            {},
            {IDENTITY_HEADER: sign(SHOP, "forged" * 8)},
            {IDENTITY_HEADER: expired},
            {"Authorization": "Bearer " + sign(SHOP, TEST_IDENTITY_KEY)},  # not the header
        ]:
            for method, path, body in [
                ("GET", "/api/demo/whoami", None),
                # Refused before the body is read: a bad body says nothing without identity.
                ("POST", "/api/demo/things", {"n": "not a number"}),
            ]:
                refused = await client.request(method, path, json=body, headers=headers)
                assert refused.status_code == 401, (headers, path, refused.text)
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["status"] == 401

        # A path or method no route has says nothing more than one that exists, however the
        # path is spelled (the router reads //api/x as /api/x).
        for method, path in [
            ("GET", "/api/demo/nothing-here"),
            ("DELETE", "/api/demo/things"),
            ("GET", "http://testserver.local//api/demo/nothing-here"),
            ("DELETE", "http://testserver.local//api/demo/things"),
            ("GET", "http://testserver.local//api/demo/whoami"),
        ]:
            refused = await client.request(method, path)
            assert refused.status_code == 401, (method, path, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        assert (await client.get("/api/nope", headers=identity_headers())).status_code == 404
        wrong = await client.delete("/api/demo/things", headers=identity_headers())
        assert wrong.status_code == 405
        assert (await client.get("/not-api")).status_code == 404

        mine = await client.get("/api/demo/whoami", headers=identity_headers(channel="shop"))
        assert mine.json() == {"name": "test", "channel": "shop"}
        made = await client.post("/api/demo/things", json={"n": 3}, headers=identity_headers())
        assert made.status_code == 201

        # Probes, Prometheus and the service's own OpenAPI document stay open.
        for path in ("/health/live", "/metrics", "/schema/openapi.json"):
            assert (await client.get(path)).status_code == 200, path


async def test_only_routes_for_channels_answer_a_channel_s_identity() -> None:
    async with AsyncTestClient(app=_service(TEST_IDENTITY_KEY).app()) as client:
        refused = await client.get("/api/demo/everyone", headers=identity_headers(channel="shop"))
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/back-office-only")
        office = await client.get("/api/demo/everyone", headers=identity_headers())
        assert office.json() == {"seen": "all"}


async def test_without_a_key_a_service_refuses_every_api_request() -> None:
    async with AsyncTestClient(app=_service(None).app()) as client:
        refused = await client.get("/api/demo/whoami", headers=identity_headers())
        assert refused.status_code == 401
        assert refused.json()["type"].endswith("/invalid-identity")
        assert (await client.get("/health/live")).status_code == 200
