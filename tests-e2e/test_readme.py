"""The README's first steps, run exactly as written, against a system of their own.

The block between ``<!-- first-steps:begin -->`` and ``<!-- first-steps:end -->`` is what a
newcomer pastes into a second terminal while `make run` runs: seed the market, sign a printed
customer up, move the clock, settle the month, read the export. Only ``GW`` and
``WATTLINE_HOME`` say where this system is, as the README tells a user who started it elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_system import OVERRIDES, System

ROOT = Path(__file__).resolve().parents[1]


def first_steps() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(
        r"<!-- first-steps:begin -->\n```sh\n(.*?)```\n<!-- first-steps:end -->", readme, re.S
    )
    assert found, "README.md has no first-steps block"
    return found.group(1)


def last_json_document(stdout: str) -> object:
    """The document `python3 -m json.tool` printed last (it starts at a line of its own)."""
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line in ("{", "["))
    return json.loads("\n".join(lines[start:]))


def test_first_steps_block_uses_only_what_the_readme_names() -> None:
    script = first_steps()
    assert "uv run" not in script and "DATABASE_URL" not in script
    assert "wattline sim seed" in script and "wattline settlement run" in script


@pytest.mark.e2e
def test_the_readmes_first_steps_run_as_written(tmp_path: Path) -> None:
    system = System(tmp_path / "home")
    system.start()
    try:
        env = {k: v for k, v in os.environ.items() if k not in (*OVERRIDES, "WATTLINE_HOME")}
        env |= {"GW": system.url, "WATTLINE_HOME": str(system.home)}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", first_steps()],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        system.stop()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    assert re.search(r"metering points added", done.stdout), done.stdout[-3000:]
    assert re.search(r"^run \S+: completed", done.stdout, re.M), done.stdout[-3000:]

    export = last_json_document(done.stdout)
    assert isinstance(export, dict)
    [january] = export["settlements"]
    assert january["billing_period"] == "2025-01"
    # The switch took effect in January: from then to the month's end (local dates, end exclusive).
    assert "2025-01-01" < january["period"]["start"] < "2025-01-31"
    assert january["period"]["end"] == "2025-02-01"
    assert Decimal(january["consumption_kwh"]) > 0
    lines_total = sum(Decimal(line["amount"]) for line in january["lines"])
    assert Decimal(january["subtotal"]) == lines_total
    assert Decimal(january["total"]) == Decimal(january["subtotal"]) + Decimal(january["vat"])
