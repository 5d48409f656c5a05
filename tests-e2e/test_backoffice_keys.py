"""API keys in the back office (issue 16), in a real browser against the session's system:
staff logged in as the admin `wattline up` made create a key on the API-nøgler page, see its
secret once, the key reads the API, staff revoke it on the page and the API refuses it."""

from __future__ import annotations

import re

import httpx
import pytest
from browser import Watched, accessible
from playwright.async_api import expect
from scenario import Scenario, eventually

pytestmark = pytest.mark.e2e

# The gateway that revoked a key drops it from its cache at once; any other gateway process
# would refuse it when its cached copy ends (api.KEY_CACHE_SECONDS, 30 s).
REFUSED_WITHIN_S = 35


async def test_staff_create_a_key_it_works_they_revoke_it_and_it_is_refused(
    staff: Watched, system: Scenario
) -> None:
    page = staff.page
    await staff.open("/api-keys")
    await expect(page.get_by_role("heading", name="API-nøgler", level=1)).to_be_visible()
    await page.get_by_label("Navn", exact=True).fill("erp-browser")
    await page.get_by_label("Rettigheder", exact=True).fill("settlement:read")
    await page.get_by_role("button", name="Opret nøgle").click()

    shown = page.get_by_test_id("new-api-key")
    await expect(shown).to_be_visible()
    secret = (await shown.inner_text()).strip()
    assert re.fullmatch(r"wl_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}", secret), secret
    once = page.get_by_role("status").filter(has_text="vises kun denne ene gang")
    await expect(once).to_be_visible()
    row = page.get_by_role("row").filter(has_text="erp-browser")
    await expect(row).to_contain_text(f"wl_{secret[3:15]}_…")
    await expect(row).to_contain_text("settlement:read")
    await expect(row).to_contain_text("Back office")
    await accessible(staff, "api-keys")

    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        auth = {"X-API-Key": secret}
        works = await client.get("/api/settlement/runs", headers=auth)
        assert works.status_code == 200, works.text
        writes = await client.post("/api/settlement/runs", headers=auth, json={})
        assert writes.status_code == 403, writes.text

        await row.get_by_role("button", name="Spær erp-browser").click()
        await page.get_by_role("button", name="Ja, spær").click()
        # The revoked row shows when (dd.mm.yyyy …) instead of its button.
        await expect(row.get_by_role("button", name="Spær erp-browser")).to_have_count(0)
        await expect(row).to_contain_text(re.compile(r"\d\d\.\d\d\.\d{4}.*\d\d\.\d\d\.\d{4}"))

        refused = await eventually(
            lambda: client.get("/api/settlement/runs", headers=auth),
            lambda answer: answer.status_code == 401,
            timeout=REFUSED_WITHIN_S,
        )
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
