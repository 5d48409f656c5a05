"""Every benchmark runs at its --smoke size, so an import or API change breaks CI, not the next
measurement: exit code 0 (its own correctness checks held) and its RESULT line printed.

Each script starts what it needs on free ports (embedded PostgreSQL and Tansu, the services,
or for signup_load a whole `wattline up`), never on the default ones where another Wattline
may run; the environment given to it has no Wattline addresses of the shell's either.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
# Modules starting with "_" are the scripts' shared code, not benchmarks.
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))
TIMEOUT_S = {  # a whole system; replica processes
    "signup_load.py": 240.0,
    "scale_out.py": 240.0,
    "scale_out_ingest.py": 240.0,
}
DEFAULT_TIMEOUT_S = 150.0


def _env() -> dict[str, str]:
    """This environment without anything that would point a benchmark at a running system."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WATTLINE_")
        and k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP", "CLOCK_URL")
    }


def _param(script: str) -> object:
    marks = [pytest.mark.e2e] if script == "signup_load.py" else []
    return pytest.param(script, marks=marks, id=script.removesuffix(".py"))


def test_the_benchmarks_are_found() -> None:
    assert {"outbox_throughput.py", "settlement_80k.py", "cli_startup.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", [_param(s) for s in SCRIPTS])
def test_benchmark_smoke(script: str) -> None:
    timeout = TIMEOUT_S.get(script, DEFAULT_TIMEOUT_S)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(BENCHMARKS / script), "--smoke"],
        cwd=ROOT,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: on a timeout, everything it started goes
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Ctrl-C first, so that the script stops what it started in other sessions (a whole
        # `wattline up`, embedded servers); then nothing is left to wait for.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        pytest.fail(
            f"{script} --smoke still running after {timeout:g}s:\n"
            + out.decode(errors="replace")[-5000:]
        )
    text = out.decode(errors="replace")
    print(f"{script} --smoke: {time.monotonic() - started:.1f}s")
    assert proc.returncode == 0, f"{script} --smoke exited {proc.returncode}:\n{text[-5000:]}"
    assert re.search(r"^RESULT ", text, re.MULTILINE), f"no RESULT line:\n{text[-5000:]}"
