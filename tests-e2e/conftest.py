"""The e2e session's system: one `wattline up` shared by the tests that don't restart it,
driven through the scenario steps of scenario.py (it is a System too)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from browser import ARGS, CHROMIUM, DIST, Watched, credentials, log_in, new_context
from playwright.async_api import Browser, async_playwright
from scenario import Scenario, started


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    yield from started(tmp_path_factory.mktemp("wattline-e2e"))


# The back office in a real browser (browser.py): one chromium for the session, a fresh
# context per test against the `system` the test's module uses.


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One chromium for the session (Debian's; Playwright's own download is not used)."""
    assert CHROMIUM.exists(), f"no chromium at {CHROMIUM}: `make test` installs it"
    assert DIST.exists(), f"the back office is not built ({DIST}): run `make backoffice`"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def anonymous(browser: Browser, system: Scenario, tmp_path: Path) -> AsyncIterator[Watched]:
    """A browser that has not logged in."""
    context = await new_context(browser, system.url)
    watched = Watched(await context.new_page(), system.url, tmp_path)
    yield watched
    await context.close()
    watched.assert_clean()


@pytest.fixture
async def staff(browser: Browser, system: Scenario, tmp_path: Path) -> AsyncIterator[Watched]:
    """A browser logged in as the back-office user `wattline up` made."""
    context = await new_context(browser, system.url)
    await log_in(context, credentials(system.home))
    watched = Watched(await context.new_page(), system.url, tmp_path)
    yield watched
    await context.close()
    watched.assert_clean()
