"""What every benchmark script shares: the ``--smoke`` size, its checks and the machine line.

Not a benchmark itself (its name starts with ``_``, so ``tests-e2e/test_benchmarks.py`` does not
run it). A script puts its directory on ``sys.path`` by being run as ``python benchmarks/x.py``.

``--smoke`` runs the same code path at a tiny size, in seconds, so that ``make test`` breaks on
an import or API change instead of the next measurement. Options given explicitly on the command
line still win over the smoke sizes.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

SMOKE_HELP = (
    "a tiny size that runs in seconds (what `make test` runs, so the benchmark cannot rot); "
    "its checks still decide the exit code"
)


def parse_args(
    parser: argparse.ArgumentParser, smoke: dict[str, Any], argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """Parse *argv* with a ``--smoke`` flag added; with it, *smoke* replaces the defaults."""
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    known, _ = parser.parse_known_args(argv)
    if known.smoke:
        parser.set_defaults(**smoke)
    return parser.parse_args(argv)


class Checks:
    """The benchmark's own correctness checks: each printed as it is judged; :meth:`exit_code`
    is non-zero when any failed (so a smoke run fails CI)."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, passed: bool, what: str) -> bool:
        print(f"  [{'ok' if passed else 'FAILED'}] {what}", flush=True)
        if not passed:
            self.failed.append(what)
        return passed

    def exit_code(self) -> int:
        if self.failed:
            print(f"{len(self.failed)} check(s) FAILED", flush=True)
            return 1
        return 0


def percentile(values: Sequence[float], q: float) -> float:
    """The *q*-th percentile (nearest rank) of *values*; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(latencies_ms: Sequence[float]) -> str:
    """p50/p95/p99/max of request latencies in milliseconds."""
    if not latencies_ms:
        return "no requests"
    return (
        f"p50 {percentile(latencies_ms, 50):.1f} ms, p95 {percentile(latencies_ms, 95):.1f} ms, "
        f"p99 {percentile(latencies_ms, 99):.1f} ms, max {max(latencies_ms):.1f} ms "
        f"({len(latencies_ms)} requests)"
    )


def median_max(seconds: Sequence[float]) -> str:
    """Median and max of wall times, in milliseconds."""
    return f"median {statistics.median(seconds) * 1000:,.0f} ms, max {max(seconds) * 1000:,.0f} ms"


async def health_latencies(client: httpx.AsyncClient, requests: int) -> list[float]:
    """Latencies (ms) of ``GET /health/live`` on *client*'s service, one at a time: the floor
    of an HTTP request there (routing, middleware, the loopback round trip)."""
    latencies: list[float] = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = await client.get("/health/live")
        latencies.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return latencies


def machine(extra: str = "") -> str:
    """The machine line every result ends with."""
    line = f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    return f"{line}, {extra}" if extra else line


def bench_identity() -> tuple[str, httpx.Auth]:
    """A fresh IDENTITY_KEY for the services a benchmark starts (the gateway signs with it),
    and httpx auth signing an admin identity with it, for calls straight to a service."""
    from wattline_platform.identity import Identity, SigningAuth, new_key

    key = new_key()
    return key, SigningAuth(Identity("bench", "bench", frozenset({"admin"})), key)
