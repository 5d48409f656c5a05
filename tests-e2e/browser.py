"""The back office in a real browser: Debian's chromium driven by Playwright (never
Playwright's own browser download), one browser for the session and a fresh, logged-in
context per test.

Every page is watched: a console error or warning, an uncaught exception, a request that
failed and an answer of 400 or more that the test did not say it expects each fail the test
(:meth:`Watched.assert_clean`, run by the fixture after the test). So does a critical axe-core
violation on a page the test checks (:func:`accessible`); serious ones are printed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("WATTLINE_CHROMIUM", "/usr/bin/chromium"))
# Headless, and none of Chromium's own connections (updates, sync, QUIC probes): this host's
# closed network refuses them, and each would show as a failed request or a console error.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
AXE = REPO / "backoffice" / "node_modules" / "axe-core" / "axe.min.js"
DIST = REPO / "backoffice" / "dist" / "index.html"
SCREENSHOTS = REPO / "docs" / "screenshots"
# Set to 1 to copy each page's screenshot into docs/screenshots (for the README); without it
# they go to the test's temporary directory only, so a test run changes no committed file.
SAVE_SCREENSHOTS = os.environ.get("WATTLINE_SCREENSHOTS") == "1"
CSRF = {"X-Requested-By": "wattline-backoffice"}


def credentials(home: Path) -> dict[str, str]:
    """The back-office login `wattline up` made for the system in *home* (its system.json)."""
    described = json.loads((home / "system.json").read_text())
    login: dict[str, str] = described["backoffice"]
    return login


def dkk(amount: Decimal | str) -> str:
    """*amount* as the back office shows it: `1.234,56 kr.` (da-DK, DKK)."""
    whole, _, ore = f"{Decimal(amount):,.2f}".partition(".")
    return f"{whole.replace(',', '.')},{ore} kr."


def danish_date(iso: str) -> str:
    """A `YYYY-MM-DD` date as the back office shows it: `dd.mm.yyyy`."""
    year, month, day = iso[:10].split("-")
    return f"{day}.{month}.{year}"


def normalised(text: str) -> str:
    """*text* with Intl's non-breaking and narrow spaces as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


@dataclass
class Watched:
    """A page of the back office and what went wrong on it."""

    page: Page
    base_url: str
    shots: Path
    problems: list[str] = field(default_factory=list)
    expected: list[tuple[int, str]] = field(default_factory=list)  # (status, path part)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._answered)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        # Chromium logs every answer >= 400 as "Failed to load resource"; _answered judges
        # those (an expected 401 is no error).
        if message.text.startswith("Failed to load resource"):
            return
        self.problems.append(f"console {message.type}: {message.text} ({message.location})")

    def _failed(self, request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:  # the app cancelled it (a page left while it loaded)
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _answered(self, response: Response) -> None:
        if response.status < 400:
            return
        path = response.url.removeprefix(self.base_url)
        if any(status == response.status and part in path for status, part in self.expected):
            return
        self.problems.append(f"answer {response.status}: {response.request.method} {path}")

    @contextmanager
    def expecting(self, status: int, path: str) -> Iterator[None]:
        """Inside: an answer *status* to a URL containing *path* is what the test provokes."""
        self.expected.append((status, path))
        try:
            yield
        finally:
            self.expected.remove((status, path))

    async def open(self, path: str) -> None:
        """Go to the back office's *path* (`/signups/…`: a deep link, as a bookmark)."""
        await self.page.goto(f"{self.base_url}/backoffice{path}")

    async def text(self) -> str:
        """What the page shows (its main content and all), spaces normalised."""
        return normalised(await self.page.locator("body").inner_text())

    async def screenshot(self, name: str) -> Path:
        """The page as staff see it at 1280x800, into the test's directory and, with
        WATTLINE_SCREENSHOTS=1, into docs/screenshots/<name>.png."""
        await self.page.wait_for_load_state("networkidle")
        shot = self.shots / f"{name}.png"
        await self.page.screenshot(path=shot)
        if SAVE_SCREENSHOTS:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOTS / shot.name)
        return shot

    def assert_clean(self) -> None:
        assert not self.problems, "the back office went wrong:\n  " + "\n  ".join(self.problems)


async def new_context(browser: Browser, base_url: str) -> BrowserContext:
    """A fresh browser profile at 1280x800, in Danish and Copenhagen's time zone."""
    return await browser.new_context(
        base_url=base_url,
        viewport=VIEWPORT,  # type: ignore[arg-type]
        locale="da-DK",
        timezone_id="Europe/Copenhagen",
    )


async def log_in(context: BrowserContext, login: dict[str, str]) -> dict[str, Any]:
    """The session cookie for *login* in *context*, as the login page gets it."""
    answer = await context.request.post(
        "/api/session", data={"username": login["username"], "password": login["password"]}
    )
    assert answer.status == 200, await answer.text()
    session: dict[str, Any] = await answer.json()
    return session


async def accessible(watched: Watched, name: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now; fails on a critical one and prints
    the serious ones. The script is evaluated through the DevTools protocol, which the
    gateway's Content-Security-Policy (no inline scripts) does not stop, as it would a
    <script> tag added to the page."""
    page = watched.page
    await page.wait_for_load_state("networkidle")
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    summary = [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in found
    ]
    serious = [s for s in summary if s.startswith("serious")]
    if serious:
        print(f"\naxe-core, {name}: serious violations\n  " + "\n  ".join(serious))
    critical = [s for s in summary if s.startswith("critical")]
    assert not critical, f"axe-core, {name}: critical violations\n  " + "\n  ".join(critical)
    return found
