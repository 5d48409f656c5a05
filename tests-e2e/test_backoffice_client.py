"""The back office's TypeScript client is generated, and committed: it must be what the
generators make of this checkout's API. `backoffice/openapi.json` is `wattline openapi`'s
document (the one the gateway serves), `backoffice/src/api/schema.d.ts` openapi-typescript's
types of it; `make backoffice-client` regenerates both. A route or model changed without
regenerating fails here, not in a browser."""

from __future__ import annotations

import difflib
import re
import subprocess
from pathlib import Path

from e2e_system import wattline

REPO = Path(__file__).resolve().parents[1]
BACKOFFICE = REPO / "backoffice"
GENERATOR = BACKOFFICE / "node_modules" / ".bin" / "openapi-typescript"
FIX = "regenerate with `make backoffice-client` and commit both files"


def _same(committed: Path, generated: Path) -> None:
    want, got = generated.read_text(), committed.read_text()
    if want != got:
        diff = difflib.unified_diff(
            got.splitlines(), want.splitlines(), str(committed), "generated", lineterm="", n=1
        )
        shown = "\n".join(list(diff)[:40])
        raise AssertionError(f"{committed.relative_to(REPO)} has drifted; {FIX}:\n{shown}")


def test_openapi_json_is_what_wattline_openapi_writes(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    made = wattline("openapi", "-o", str(out), home=None, cwd=tmp_path, timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    assert '"/api/session"' in out.read_text()  # the login the back office uses is in it
    _same(BACKOFFICE / "openapi.json", out)


def test_schema_d_ts_is_what_openapi_typescript_makes_of_it(tmp_path: Path) -> None:
    assert GENERATOR.exists(), f"no {GENERATOR}: `make backoffice` installs it (npm ci)"
    out = tmp_path / "schema.d.ts"
    made = subprocess.run(
        [str(GENERATOR), "openapi.json", "-o", str(out)],
        cwd=BACKOFFICE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    _same(BACKOFFICE / "src" / "api" / "schema.d.ts", out)


def test_the_readme_shows_every_screenshot_and_each_one_exists() -> None:
    """The README's back-office pictures are the files the browser tests save (with
    WATTLINE_SCREENSHOTS=1): none shown that is missing, none saved that is not shown."""
    readme = (REPO / "README.md").read_text()
    shown = set(re.findall(r"\]\((docs/screenshots/[\w-]+\.png)\)", readme))
    saved = {str(p.relative_to(REPO)) for p in (REPO / "docs" / "screenshots").glob("*.png")}
    assert shown, "README.md shows no screenshot of the back office"
    assert shown == saved, {"shown, not saved": shown - saved, "saved, not shown": saved - shown}
