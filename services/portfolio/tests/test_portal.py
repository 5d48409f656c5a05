"""The portal's portfolio: a customer's portal token sees its own metering points (type,
areas, address, current supply period) and its contract with the product's price terms;
another customer's data never, back office is refused the portal routes (real Postgres)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

import httpx
from wattline_platform.testing import portal_headers
from wattline_portfolio.domain import periods

if TYPE_CHECKING:
    from conftest import Rig

PORTAL = "/api/portfolio/portal"
SPOT = uuid.uuid5(uuid.NAMESPACE_URL, "wattline:product:Spot")


async def _customer_of(rig: Rig, signup_id: str) -> str:
    found = await rig.service.database.fetchval(
        "SELECT customer_id FROM signup WHERE signup_id = $1", signup_id
    )
    return str(found)


async def test_a_customer_sees_its_own_metering_points_and_contract(rig: Rig) -> None:
    anna_point, bo_point = rig.single(0), rig.single(1)
    anna = await _customer_of(
        rig, await rig.activate(anna_point, type="move_in", effective_date="2025-02-26")
    )
    bo = await _customer_of(
        rig,
        await rig.activate(
            bo_point, type="move_in", effective_date="2025-02-27", customer_name="Bo Berg"
        ),
    )
    assert anna != bo

    async with httpx.AsyncClient(base_url=rig.client.base_url) as web:
        me = portal_headers(anna)
        points = await web.get(f"{PORTAL}/metering-points", headers=me)
        assert points.status_code == 200, points.text
        assert points.json() == {
            "name": "Anders Jensen",
            "postal_address": {
                "street": "Nørrebrogade", "house_number": "42", "floor": "3", "door": "th",
                "postal_code": "2200", "city": "København N",
            },
            "metering_points": [
                {
                    "gsrn": anna_point.gsrn, "type": "consumption",
                    "grid_area": anna_point.grid_area,
                    "price_area": "DK1" if int(anna_point.grid_area) < 700 else "DK2",
                    "resolution": anna_point.resolution,
                    "address_dar_id": str(anna_point.dar_id),
                    "supply": {
                        "start_date": "2025-02-26", "end_date": None, "supplied_now": True,
                    },
                }
            ],
        }  # fmt: skip
        assert bo_point.gsrn not in points.text

        contract = await web.get(f"{PORTAL}/contract", headers=me)
        assert contract.status_code == 200, contract.text
        [mine] = contract.json()["contracts"]
        assert (mine["gsrn"], mine["start_date"], mine["end_date"]) == (
            anna_point.gsrn,
            "2025-02-26",
            None,
        )
        product = mine["product"]
        assert product["name"] == "Spot"
        assert product["prices"]["price_type"] == "spot"
        assert product["prices"]["fixed_price_dkk_per_kwh"] is None
        office = (await rig.client.get(f"/api/products/{SPOT}")).json()
        [signed] = [v for v in office["versions"] if v["version"] == product["prices"]["version"]]
        assert product["prices"]["margin_dkk_per_kwh"] == signed["margin_dkk_per_kwh"]
        assert (
            product["prices"]["subscription_dkk_per_month"] == signed["subscription_dkk_per_month"]
        )
        for text in ("contract_id", "product_id", "supply_period_id", "customer_id"):
            assert text not in contract.text and text not in points.text

        his = (await web.get(f"{PORTAL}/metering-points", headers=portal_headers(bo))).json()
        assert [m["gsrn"] for m in his["metering_points"]] == [bo_point.gsrn]
        assert his["name"] == "Bo Berg"

        # No such customer: 404 for both; a portal token on a back-office route: 403.
        stranger = portal_headers(str(uuid.uuid4()))
        assert (await web.get(f"{PORTAL}/metering-points", headers=stranger)).status_code == 404
        assert (await web.get(f"{PORTAL}/contract", headers=stranger)).status_code == 404
        assert (await web.get(f"/api/customers/{anna}", headers=me)).status_code == 403

    # Back office on the portal routes: 403.
    for path in ("/metering-points", "/contract"):
        refused = await rig.client.get(f"{PORTAL}{path}")
        assert refused.status_code == 403, path
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_the_current_period_is_today_s_else_the_next_else_the_latest() -> None:
    jan, feb, mar = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
    spans = [(jan, feb), (mar, None)]
    assert periods.current(spans, date(2025, 1, 15)) == 0
    assert periods.current(spans, date(2025, 2, 15)) == 1  # between: the one to come
    assert periods.current(spans, date(2026, 1, 1)) == 1
    assert periods.current([(jan, feb)], date(2025, 2, 1)) == 0  # ended: the latest
    assert not periods.covers((jan, feb), feb) and periods.covers((jan, feb), jan)
    assert periods.covers((mar, None), date(2099, 1, 1))


async def test_an_ended_supply_is_shown_ended_and_a_rolled_back_one_not_at_all(rig: Rig) -> None:
    kept, rolled = rig.single(0), rig.single(1)
    signup = await rig.activate(kept)  # a switch from 24 March (today is 3 March)
    anna = await _customer_of(rig, signup)
    await rig.activate(rolled)  # another address, another customer
    async with httpx.AsyncClient(base_url=rig.client.base_url) as web:
        me = portal_headers(anna)
        [point] = (await web.get(f"{PORTAL}/metering-points", headers=me)).json()["metering_points"]
        # Signed up, not yet supplied: the period to come.
        assert point["supply"] == {
            "start_date": "2025-03-24",
            "end_date": None,
            "supplied_now": False,
        }
        rig.clock.set_today(date(2025, 4, 1))
        supplied = (await web.get(f"{PORTAL}/metering-points", headers=me)).json()
        assert supplied["metering_points"][0]["supply"]["supplied_now"] is True
        # Another supplier takes over from 15 April: ours ended; the contract too.
        await rig.notification(kept.gsrn, date(2025, 4, 15))
        rig.clock.set_today(date(2025, 5, 1))
        ended = (await web.get(f"{PORTAL}/metering-points", headers=me)).json()
        assert ended["metering_points"][0]["supply"] == {
            "start_date": "2025-03-24",
            "end_date": "2025-04-15",
            "supplied_now": False,
        }
        [contract] = (await web.get(f"{PORTAL}/contract", headers=me)).json()["contracts"]
        assert (contract["gsrn"], contract["end_date"]) == (kept.gsrn, "2025-04-15")

        # The other customer's switch is rolled back by the previous supplier: never theirs.
        other = str(
            await rig.service.database.fetchval(
                "SELECT customer_id FROM supply_period WHERE gsrn = $1", rolled.gsrn
            )
        )
        assert other != anna
        await rig.notification(rolled.gsrn, date(2025, 3, 24), process_type="D07")
        theirs = await web.get(f"{PORTAL}/metering-points", headers=portal_headers(other))
        assert theirs.status_code == 200 and theirs.json()["metering_points"] == []
        assert (
            await web.get(f"{PORTAL}/contract", headers=portal_headers(other))
        ).status_code == 404
