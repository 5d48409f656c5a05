"""Channel-bound keys through the real gateway: a sales channel sees only its own signups.

The gateway authenticates each key and signs its channel into the identity it forwards; the
portfolio records the channel on the signup and answers another channel's signup as if it
did not exist (404), while a back-office key (bound to no channel) sees all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest
from wattline_gateway.bootstrap import SPEC as GATEWAY
from wattline_gateway.bootstrap import GatewaySettings
from wattline_gateway.bootstrap import build as build_gateway
from wattline_gateway.handlers import create_api_key
from wattline_platform import migrations
from wattline_platform.testing import serve_app

if TYPE_CHECKING:
    from conftest import Rig

CHANNEL_SCOPES = ["signup:write", "signups:write", "products:read"]


@dataclass
class Keys:
    gateway: httpx.AsyncClient
    shop: dict[str, str]  # bound to channel "shop"
    partner: dict[str, str]  # bound to channel "partner"
    back_office: dict[str, str]  # bound to no channel
    auditor: dict[str, str]  # reads the gateway's audit trail


@pytest.fixture
async def keys(rig: Rig, postgres_dsn: str) -> AsyncIterator[Keys]:
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "gateway"})
    await migrations.apply(conn, "gateway", GATEWAY.migrations())
    try:
        shop = await create_api_key(conn, "shop", CHANNEL_SCOPES, channel="shop")
        # A channel's key given a back-office scope by mistake still sees no customers.
        partner = await create_api_key(
            conn, "partner", [*CHANNEL_SCOPES, "customers:read"], channel="partner"
        )
        office = await create_api_key(conn, "office", ["portfolio:write"])
        auditor = await create_api_key(conn, "auditor", ["audit:read"])
        portfolio = str(rig.client.base_url).rstrip("/")
        gateway = build_gateway(
            GatewaySettings(
                database_url=postgres_dsn,
                services={"portfolio": portfolio},
                metrics_port=0,  # any free one: the default may be taken on a shared host
            )
        )
        async with serve_app(gateway.app()) as url, httpx.AsyncClient(base_url=url) as client:
            yield Keys(
                client,
                {"X-API-Key": shop},
                {"X-API-Key": partner},
                {"X-API-Key": office},
                {"X-API-Key": auditor},
            )
    finally:
        await conn.execute("DROP SCHEMA gateway CASCADE")
        await conn.close()


async def test_a_channel_sees_and_cancels_only_its_own_signups(rig: Rig, keys: Keys) -> None:
    gw = keys.gateway
    made = await gw.post("/api/signup", json=rig.signup_body(rig.single(0)), headers=keys.shop)
    assert made.status_code == 201, made.text
    ours = made.json()["signup_id"]
    made = await gw.post("/api/signup", json=rig.signup_body(rig.single(1)), headers=keys.partner)
    assert made.status_code == 201, made.text
    theirs = made.json()["signup_id"]
    channels = dict(
        await rig.service.database.fetch(
            "SELECT signup_id, channel FROM signup WHERE signup_id = ANY($1)", [ours, theirs]
        )
    )
    assert channels == {ours: "shop", theirs: "partner"}
    # The partner signing up the shop's customer learns of an open process, not its ids.
    taken = await gw.post("/api/signup", json=rig.signup_body(rig.single(0)), headers=keys.partner)
    assert taken.status_code == 409 and taken.json()["type"].endswith("/open-process")
    assert ours not in taken.text and "process_id" not in taken.json()

    # Listing: each channel its own, back office both.
    def listed(response: httpx.Response) -> set[str]:
        assert response.status_code == 200, response.text
        return {item["signup_id"] for item in response.json()["items"]}

    assert listed(await gw.get("/api/signups", headers=keys.shop)) == {ours}
    assert listed(await gw.get("/api/signups", headers=keys.partner)) == {theirs}
    # ... even when searching for the other's id or GSRN.
    found = await gw.get("/api/signups", params={"search": theirs}, headers=keys.shop)
    assert listed(found) == set()
    assert listed(await gw.get("/api/signups", headers=keys.back_office)) == {ours, theirs}

    # Another channel's signup does not exist for the shop: read, events, status, cancel.
    for method, path in [
        ("GET", f"/api/signups/{theirs}"),
        ("GET", f"/api/signups/{theirs}/events"),
        ("GET", f"/api/signup/{theirs}/status"),
        ("POST", f"/api/signup/{theirs}/cancel"),
        ("POST", f"/api/signups/{theirs}/resubmit"),
    ]:
        body = {} if method == "POST" else None
        refused = await gw.request(method, path, headers=keys.shop, json=body)
        assert refused.status_code == 404, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/signup-not-found")
    assert await rig.status(theirs) == "registered"  # the cancel did not touch it

    # Its own: read, events, status and cancel.
    assert (await gw.get(f"/api/signups/{ours}", headers=keys.shop)).status_code == 200
    assert (await gw.get(f"/api/signups/{ours}/events", headers=keys.shop)).status_code == 200
    status = await gw.get(f"/api/signup/{ours}/status", headers=keys.shop)
    assert status.json()["status"] == "registered"
    cancelled = await gw.post(f"/api/signup/{ours}/cancel", headers=keys.shop)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    # Back office sees and may cancel any channel's signup.
    detail = await gw.get(f"/api/signups/{theirs}", headers=keys.back_office)
    assert detail.status_code == 200 and detail.json()["signup_id"] == theirs
    office = await gw.post(f"/api/signup/{theirs}/cancel", headers=keys.back_office)
    assert office.status_code == 200, office.text

    # The gateway's audit trail: who tried to cancel what, and how it ended.
    async def cancels(target: str) -> list[tuple[str, str, str | None, int | None]]:
        audit = await gw.get("/api/audit", params={"target": target}, headers=keys.auditor)
        assert audit.status_code == 200, audit.text
        return [
            (e["key_name"], e["method"], e["target"], e["status"])
            for e in reversed(audit.json()["items"])  # newest first
            if e["target"].endswith("/cancel")
        ]

    assert await cancels(theirs) == [
        ("shop", "POST", f"{theirs}/cancel", 404),
        ("office", "POST", f"{theirs}/cancel", 200),
    ]
    assert await cancels(ours) == [("shop", "POST", f"{ours}/cancel", 200)]
    # A channel's key reads no trail (it would show the other channels' calls).
    assert (await gw.get("/api/audit", headers=keys.shop)).status_code == 403


async def test_a_channel_key_never_reaches_back_office_views(rig: Rig, keys: Keys) -> None:
    # The partner's key holds customers:read, so the gateway lets it through: the portfolio
    # refuses it because it is bound to a channel and the route is not one for channels.
    customers = await keys.gateway.get("/api/customers", headers=keys.partner)
    assert customers.status_code == 403, customers.text
    assert customers.json()["type"].endswith("/back-office-only")
    assert (await keys.gateway.get("/api/customers", headers=keys.back_office)).status_code == 200
    # What a channel is for stays open to it: the products it offers.
    products = await keys.gateway.get("/api/products", headers=keys.shop)
    assert products.status_code == 200 and products.json(), products.text


async def test_an_idempotency_key_is_one_channel_s(rig: Rig, keys: Keys) -> None:
    gw = keys.gateway
    retry = {"Idempotency-Key": "order-1"}
    first = await gw.post(
        "/api/signup", json=rig.signup_body(rig.single(0)), headers={**keys.shop, **retry}
    )
    assert first.status_code == 201, first.text
    again = await gw.post(
        "/api/signup", json=rig.signup_body(rig.single(0)), headers={**keys.shop, **retry}
    )
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["signup_id"] == first.json()["signup_id"]
    # The partner using the same key gets a signup of its own, never a replay of the shop's.
    other = await gw.post(
        "/api/signup", json=rig.signup_body(rig.single(1)), headers={**keys.partner, **retry}
    )
    assert other.status_code == 201, other.text
    assert "idempotent-replayed" not in other.headers
    assert other.json()["signup_id"] != first.json()["signup_id"]


async def test_a_channel_never_reads_another_s_customer_details_by_its_cpr(
    rig: Rig, keys: Keys
) -> None:
    gw = keys.gateway
    shop_body = rig.signup_body(rig.single(0))
    made = await gw.post("/api/signup", json=shop_body, headers=keys.shop)
    assert made.status_code == 201, made.text
    # The partner knows the shop's customer's CPR only, and signs it up elsewhere under made-up
    # contact details: the customer (one party per CPR) keeps the shop's details, which the
    # partner's own signup must not show it.
    probe = rig.signup_body(
        rig.single(1),
        cpr_cvr=shop_body["cpr_cvr"],
        customer_name="Mallory Probe",
        email="mallory@example.dk",
        phone="+4587654321",
        billing_street="Vestergade",
        billing_postal_code="8000",
        billing_city="Aarhus C",
    )
    theirs = await gw.post("/api/signup", json=probe, headers=keys.partner)
    assert theirs.status_code == 201, theirs.text
    signup_id = theirs.json()["signup_id"]

    detail = await gw.get(f"/api/signups/{signup_id}", headers=keys.partner)
    assert detail.status_code == 200, detail.text
    customer = detail.json()["customer"]
    assert customer["name"] == "Mallory Probe"
    assert customer["email"] == "mallory@example.dk"
    assert customer["phone"] == "+4587654321"
    assert customer["billing_address"]["street"] == "Vestergade"
    listed = await gw.get("/api/signups", headers=keys.partner)
    assert [i["customer_name"] for i in listed.json()["items"]] == ["Mallory Probe"]
    for leaked in ("Anders Jensen", "anders@example.dk", "+4512345678", "Nørrebrogade"):
        assert leaked not in detail.text and leaked not in listed.text
    # Back office sees the customer as kept.
    office = await gw.get(f"/api/signups/{signup_id}", headers=keys.back_office)
    assert office.json()["customer"]["name"] == "Anders Jensen"
