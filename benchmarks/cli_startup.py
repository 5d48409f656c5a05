"""CLI start-up: wall time of `wattline --help` and `wattline status`, beside `python -c pass`.

Each command runs as a fresh subprocess (``sys.executable -m wattline ...``), as a person
typing it would, ``--repetitions`` times, interleaved so that a busy moment of the machine
falls on every command alike (one unmeasured warm-up run of each first, for the page cache).
The floor, measured in the same run, is the interpreter alone: ``python -c pass``.

``wattline status`` is measured without a running system: it is pointed at an empty
``WATTLINE_HOME`` and at free local ports for the gateway, the database and the broker (never
the default ports, where another Wattline may run), so it must fail fast with a message. The
checks: ``--help`` exits 0 with its usage; ``status`` exits non-zero with a message and without
a traceback; the exit code is non-zero when one fails. Timings are reported, never judged by
the exit code.

    uv run python benchmarks/cli_startup.py                 # 10 repetitions
    uv run python benchmarks/cli_startup.py --smoke         # 2 repetitions

Goal: < 1 s for both commands.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _bench import Checks, machine, median_max, parse_args
from wattline_platform.embedded import free_port

GOAL_S = 1.0
HANG_S = 60.0  # a command still running after this long has hung: a failure, not a figure


@dataclass
class Command:
    """One command line measured, with its last outcome."""

    label: str
    argv: list[str]
    env: dict[str, str]
    seconds: list[float] = field(default_factory=list)
    returncode: int | None = None
    output: str = ""

    def run(self) -> float:
        started = time.perf_counter()
        try:
            done = subprocess.run(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=HANG_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.returncode, self.output = None, f"still running after {HANG_S:g}s"
            return HANG_S
        elapsed = time.perf_counter() - started
        self.returncode = done.returncode
        self.output = (done.stdout + done.stderr).decode(errors="replace")
        return elapsed


def no_system_env(home: Path) -> dict[str, str]:
    """This environment without any Wattline's addresses: an empty home and free ports."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WATTLINE_") and k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP")
    }
    env.update(
        {
            "WATTLINE_HOME": str(home),
            "WATTLINE_GATEWAY_URL": f"http://127.0.0.1:{free_port()}",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/wattline",
            "KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        }
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repetitions", type=int, default=10, help="measured runs of each")
    args = parse_args(parser, {"repetitions": 2})

    with tempfile.TemporaryDirectory(prefix="wattline-cli-startup-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = no_system_env(home)
        commands = [
            Command("floor: python -c pass", [sys.executable, "-c", "pass"], env),
            Command("wattline --help", [sys.executable, "-m", "wattline", "--help"], env),
            Command(
                "wattline status (no system running)",
                [sys.executable, "-m", "wattline", "status"],
                env,
            ),
        ]
        print(
            f"{args.repetitions} repetitions of {len(commands)} commands (after one warm-up "
            f"each), in {tmp}",
            flush=True,
        )
        for command in commands:
            command.run()
        for k in range(args.repetitions):
            line = []
            for command in commands:
                command.seconds.append(command.run())
                line.append(f"{command.label.split(' (')[0]} {command.seconds[-1] * 1000:,.0f} ms")
            print(f"  {k + 1:>3}/{args.repetitions}: " + ", ".join(line), flush=True)

    floor, help_, status = commands
    print(f"\nRESULT CLI start-up, {args.repetitions} runs each (fresh processes):")
    for command in commands:
        extra = ""
        if command is not floor:
            over = [s - f for s, f in zip(command.seconds, floor.seconds, strict=True)]
            verdict = "met" if max(command.seconds) < GOAL_S else "NOT met"
            extra = (
                f"; above the floor by {median_max(over).replace('max', 'at most')}"
                f"; goal < {GOAL_S:g} s: {verdict}"
            )
        print(f"  {command.label:<38} {median_max(command.seconds)}{extra}")
    checks = Checks()
    checks.check(
        help_.returncode == 0 and "Usage" in help_.output,
        f"wattline --help exits 0 with its usage (exit {help_.returncode})",
    )
    message = status.output.strip().splitlines()
    checks.check(
        status.returncode not in (0, None) and bool(message) and "Traceback" not in status.output,
        f"wattline status without a system exits non-zero with a message, no traceback "
        f"(exit {status.returncode}: {' | '.join(message[-3:])[:300]!r})",
    )
    print(machine())
    sys.exit(checks.exit_code())


if __name__ == "__main__":
    main()
