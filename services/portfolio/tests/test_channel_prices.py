"""Channel pricing (issue 18 part 1) on real PostgreSQL: the margin corridor, campaigns as
immutable versions, a channel's current price, and a contract signed through a channel keeping
the version it signed (to the contract event settlement and invoicing bill from)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest
from wattline_platform.identity import SigningAuth
from wattline_platform.testing import TEST_IDENTITY_KEY, caller_identity

if TYPE_CHECKING:
    from conftest import Rig

SPOT = str(uuid.uuid5(uuid.NAMESPACE_URL, "wattline:product:Spot"))


def _row(channel: str, margin: str, subscription: str = "29.00") -> dict[str, str]:
    return {
        "channel": channel,
        "margin_dkk_per_kwh": margin,
        "subscription_dkk_per_month": subscription,
    }


async def _publish(rig: Rig, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = await rig.client.post(f"/api/products/{SPOT}/channel-prices", json=body)
    assert response.status_code == status, response.text
    published: dict[str, Any] = response.json()
    return published


async def _offer(rig: Rig, channel: str) -> dict[str, Any]:
    response = await rig.client.get("/api/products", params={"channel": channel})
    assert response.status_code == 200, response.text
    [spot] = [p for p in response.json() if p["product_id"] == SPOT]
    return dict(spot)


async def test_a_row_outside_the_margin_corridor_is_refused_naming_the_limit(rig: Rig) -> None:
    corridor = await rig.client.patch(
        f"/api/products/{SPOT}",
        json={"min_margin_dkk_per_kwh": "0.01", "max_margin_dkk_per_kwh": "0.40"},
    )
    assert corridor.status_code == 200, corridor.text
    assert corridor.json()["max_margin_dkk_per_kwh"] == "0.400000"

    above = await _publish(
        rig, {"valid_from": "2025-03-10", "prices": [_row("web", "0.30"), _row("app", "0.45")]}, 422
    )
    assert above["type"].endswith("margin-outside-corridor")
    assert above["detail"] == "margin 0.45 DKK/kWh above the product's maximum 0.40"
    assert (above["bound"], above["limit"]) == ("maximum", "0.400000")
    below = await _publish(
        rig, {"valid_from": "2025-03-10", "prices": [_row("partner", "0.005")]}, 422
    )
    assert below["detail"] == "margin 0.005 DKK/kWh below the product's minimum 0.01"
    # A new base version keeps to the corridor as well.
    base = await rig.client.post(
        f"/api/products/{SPOT}/versions",
        json={"valid_from": "2025-04-01", "margin_dkk_per_kwh": "0.41",
              "subscription_dkk_per_month": "39"},
    )  # fmt: skip
    assert base.status_code == 422 and "maximum 0.40" in base.json()["detail"]
    # A corridor upside down is refused too, and nothing of the refused rows was written.
    upside_down = await rig.client.patch(
        f"/api/products/{SPOT}", json={"min_margin_dkk_per_kwh": "0.50"}
    )
    assert upside_down.status_code == 400, upside_down.text
    prices = (await rig.client.get(f"/api/products/{SPOT}/channel-prices")).json()
    assert prices["versions"] == [] and prices["min_margin_dkk_per_kwh"] == "0.010000"
    assert not await rig.events("portfolio.channel_prices.published")


async def test_a_campaign_is_a_new_version_and_the_old_one_stays_readable(rig: Rig) -> None:
    first = await _publish(
        rig,
        {
            "valid_from": "2025-03-10",
            "prices": [_row("web", "0.030", "19.00"), _row("app", "0.035")],
        },
    )
    assert [(v["channel"], v["version"]) for v in first["versions"]] == [("web", 2), ("app", 3)]

    # Before its date the web still sells at the base price, and says so.
    before = await _offer(rig, "web")
    assert (before["price_source"], before["version"], before["margin_dkk_per_kwh"]) == (
        "base", 1, "0.040000",
    )  # fmt: skip
    assert before["next_version"]["version"] == 2
    rig.clock.set_today(date(2025, 3, 10))
    web = await _offer(rig, "web")
    assert (web["price_source"], web["version"], web["margin_dkk_per_kwh"]) == (
        "channel", 2, "0.030000",
    )  # fmt: skip
    assert web["subscription_dkk_per_month"] == "19.000000"
    assert web["campaign_id"] == first["campaign_id"]
    assert (await _offer(rig, "customer_service"))["price_source"] == "base"
    plain = (await rig.client.get("/api/products")).json()
    assert "price_source" not in plain[0] and plain[0]["margin_dkk_per_kwh"] == "0.040000"

    # A time-limited campaign over the standing web price: a new version, the old one intact.
    second = await _publish(
        rig,
        {"valid_from": "2025-03-17", "valid_to": "2025-03-31", "prices": [_row("web", "0.020")]},
    )
    assert second["versions"][0]["version"] == 4

    async def web_on(day: str) -> tuple[int, str]:
        response = await rig.client.get(
            f"/api/products/{SPOT}/channel-prices", params={"as_of": day}
        )
        assert response.status_code == 200, response.text
        [row] = [c for c in response.json()["current"] if c["channel"] == "web"]
        return row["version"], row["margin_dkk_per_kwh"]

    assert await web_on("2025-03-12") == (2, "0.030000")
    assert await web_on("2025-03-20") == (4, "0.020000")
    assert await web_on("2025-04-01") == (2, "0.030000")  # the campaign ended
    history = (await rig.client.get(f"/api/products/{SPOT}/channel-prices")).json()["versions"]
    assert [(v["version"], v["margin_dkk_per_kwh"], v["valid_to"]) for v in history] == [
        (4, "0.020000", "2025-03-31"),
        (3, "0.035000", None),
        (2, "0.030000", None),
    ]
    # Each row reached settlement's and invoicing's topic as a product version of its own.
    published = await rig.events("portfolio.product.version_published")
    assert [(e["version"], e["margin_dkk_per_kwh"]) for e in published if e["product_id"] == SPOT][
        1:
    ] == [(2, "0.030"), (3, "0.035"), (4, "0.020")]
    campaigns = await rig.events("portfolio.channel_prices.published")
    assert [[p["version"] for p in c["prices"]] for c in campaigns] == [[2, 3], [4]]
    # Published rows are immutable, whoever tries.
    with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
        await rig.service.database.execute(
            "UPDATE product_version SET margin_dkk_per_kwh = 0 WHERE version = 2"
        )
    # A channel's version never starts on or before one it has (no rewriting by date).
    again = await _publish(rig, {"valid_from": "2025-03-17", "prices": [_row("web", "0.01")]}, 422)
    assert again["type"].endswith("invalid-campaign")


async def test_a_contract_signed_through_a_channel_keeps_that_version(rig: Rig) -> None:
    await _publish(rig, {"valid_from": "2025-03-03", "prices": [_row("web", "0.030")]})
    point = rig.single(0)
    async with httpx.AsyncClient(
        base_url=rig.client.base_url,
        auth=SigningAuth(caller_identity(channel="website", name="website"), TEST_IDENTITY_KEY),
    ) as web:
        other = await web.post("/api/signup", json=rig.signup_body(point, channel="app"))
        assert other.status_code == 403 and other.json()["type"].endswith("channel-not-allowed")
        # The website's key sees its own channel's prices, and only those.
        [offer] = [p for p in (await web.get("/api/products")).json() if p["product_id"] == SPOT]
        assert (offer["channel"], offer["price_source"], offer["version"]) == ("web", "channel", 2)
        assert (await web.get("/api/products", params={"channel": "app"})).status_code == 403
        signed = await web.post("/api/signup", json=rig.signup_body(point))
        assert signed.status_code == 201, signed.text
    signup_id = signed.json()["signup_id"]
    row = await rig.service.database.fetchrow(
        "SELECT product_version, price_channel FROM signup WHERE signup_id = $1", signup_id
    )
    assert row is not None and (row["product_version"], row["price_channel"]) == (2, "web")

    # A newer campaign before the supply starts: the signed contract keeps version 2.
    await _publish(rig, {"valid_from": "2025-03-05", "prices": [_row("web", "0.020")]})
    process = await rig.process_of(signup_id)
    await rig.raise_and_send()
    await rig.answer(process["request_id"], point.gsrn)
    await rig.master_data(point, process["effective_date"])
    assert await rig.status(signup_id) == "active"
    [contract] = await rig.events("portfolio.contract.changed")
    assert (contract["product_id"], contract["product_version"]) == (SPOT, 2)
    billed = [
        e for e in await rig.events("portfolio.product.version_published")
        if (e["product_id"], e["version"]) == (SPOT, 2)
    ]  # fmt: skip
    assert [e["margin_dkk_per_kwh"] for e in billed] == ["0.030"]
    # Back office signing without a channel gets the base price.
    plain = await rig.client.post("/api/signup", json=rig.signup_body(rig.single(1)))
    assert plain.status_code == 201, plain.text
    assert (
        await rig.service.database.fetchval(
            "SELECT product_version FROM signup WHERE signup_id = $1", plain.json()["signup_id"]
        )
        == 1
    )
