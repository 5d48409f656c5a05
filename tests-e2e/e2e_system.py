"""A whole Wattline system started as `make run` starts it (`wattline up`), on free ports."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from wattline_platform.embedded import EmbeddedPostgres
from wattline_platform.identifiers import gsrn_with_check_digit
from wattline_platform.identity import Identity, SigningAuth

from wattline.registry import GATEWAY_METRICS_OFFSET, SERVERS, SERVICES


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


# PostgreSQL and the broker of a system sit beside its services, in the block of ports its base
# port starts (checked free with them): each from a block of its own was checked nowhere, and
# could land on another system's PostgreSQL.
PG_OFFSET = 150
KAFKA_OFFSET = 160


def free_base_port() -> int:
    while True:
        # Below the ephemeral range (32768 and up on Linux): a port there can be taken at any
        # moment by an outgoing connection, and the service meant for it then cannot bind.
        base = random.randrange(20000, 32000, 200)
        offsets = [e.port_offset for e in (*SERVICES, *SERVERS)]
        offsets += [GATEWAY_METRICS_OFFSET, PG_OFFSET, KAFKA_OFFSET]
        if all(_free(base + offset) for offset in offsets):
            return base


@dataclass
class System:
    """A running `wattline up` and how to reach it."""

    home: Path
    base_port: int = field(default_factory=free_base_port)
    pg_port: int = 0  # 0: base_port + PG_OFFSET
    kafka_port: int = 0  # 0: base_port + KAFKA_OFFSET
    proc: subprocess.Popen[bytes] | None = None
    settings: dict[str, str] = field(default_factory=dict)  # extra environment for services

    def __post_init__(self) -> None:
        self.pg_port = self.pg_port or self.base_port + PG_OFFSET
        self.kafka_port = self.kafka_port or self.base_port + KAFKA_OFFSET

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.base_port}"

    @property
    def simulator_url(self) -> str:
        port = self.base_port + next(e.port_offset for e in SERVICES if e.name == "simulator")
        return f"http://127.0.0.1:{port}"

    @property
    def admin_dsn(self) -> str:
        """The superuser's DSN, with the password `wattline up` generated in its home."""
        return EmbeddedPostgres(self.home, self.pg_port).admin_dsn

    @property
    def env(self) -> dict[str, str]:
        # Not the test session's IDENTITY_KEY either: `wattline up` makes its own in the home.
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP", "IDENTITY_KEY")
        }
        env["WATTLINE_HOME"] = str(self.home)
        env.update(self.settings)
        return env

    @property
    def cli_env(self) -> dict[str, str]:
        """Environment for `wattline <command>` against this system: only its home (the
        commands read where everything is from <home>/system.json)."""
        return self.env

    @property
    def log(self) -> Path:
        return self.home / "up.log"

    def start(self, timeout: float = 120) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wattline",
                "up",
                "--base-port",
                str(self.base_port),
                "--pg-port",
                str(self.pg_port),
                "--kafka-port",
                str(self.kafka_port),
                "--fast-db",
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            if "Wattline is ready" in text:
                return
            if "NOT READY" in text or self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError("wattline up did not become ready:\n" + self.log.read_text()[-5000:])

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(60)
        self.proc = None
        return code

    @property
    def key(self) -> str:
        return (self.home / "dev-api-key").read_text().strip()

    @property
    def identity_key(self) -> str:
        """The key `wattline up` made for the gateway's signed identity."""
        return (self.home / "identity.key").read_text().strip()

    def identity_auth(self) -> httpx.Auth:
        """httpx auth for calls straight to a service (the simulator's control routes): an
        admin identity signed with this system's key, as the gateway signs what it forwards."""
        caller = Identity("e2e", "e2e", frozenset({"admin"}))
        return SigningAuth(caller, self.identity_key)

    def pid(self, name: str) -> int:
        return int((self.home / "run" / f"{name}.pid").read_text())

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"X-API-Key": self.key}, timeout=30)

    async def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=5) as client:
            while time.monotonic() < deadline:
                try:
                    if (await client.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
        raise TimeoutError("system did not become ready again")

    async def register(self, gsrns: list[str], concurrency: int = 16) -> None:
        """Register metering points through the gateway (retrying while a service restarts)."""
        semaphore = asyncio.Semaphore(concurrency)
        async with self.client() as client:

            async def one(gsrn: str) -> None:
                async with semaphore:
                    for _ in range(100):
                        r = await client.post(
                            "/api/portfolio/metering-points",
                            json={"gsrn": gsrn, "grid_area": "344", "price_area": "DK1"},
                        )
                        if r.status_code == 201:
                            return
                        assert r.status_code in (502, 503, 504), r.text
                        await asyncio.sleep(0.3)
                    raise AssertionError(f"could not register {gsrn}")

            await asyncio.gather(*(one(g) for g in gsrns))

    async def applied_counts(self, gsrns: list[str]) -> dict[str, int]:
        """How often settlement applied each metering point's master data."""
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            rows = await conn.fetch(
                "SELECT gsrn, count(*) AS n FROM settlement.metering_point_history "
                "WHERE gsrn = ANY($1) GROUP BY gsrn",
                gsrns,
            )
        finally:
            await conn.close()
        return {r["gsrn"]: r["n"] for r in rows}

    async def wait_applied(self, gsrns: list[str], timeout: float = 120) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        counts: dict[str, int] = {}
        while time.monotonic() < deadline:
            counts = await self.applied_counts(gsrns)
            if len(counts) == len(gsrns):
                await asyncio.sleep(1.0)  # let late duplicates (if any) land before judging
                return await self.applied_counts(gsrns)
            await asyncio.sleep(0.3)
        raise TimeoutError(f"settlement applied {len(counts)} of {len(gsrns)}")

    async def metric(self, service: str, name: str, **labels: str) -> float:
        port = self.base_port + next(e.port_offset for e in SERVICES if e.name == service)
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


def running(
    home: Path, settings: dict[str, str] | None = None, kind: type[System] | None = None
) -> Iterator[System]:
    """A system of its own in *home* for a fixture to yield from: started, then stopped
    (*kind*: a System subclass to build, such as scenario.Scenario)."""
    system = (kind or System)(home, settings=settings or {})
    system.start()
    try:
        yield system
    finally:
        if system.proc is not None:
            system.stop()


def new_gsrns(n: int) -> list[str]:
    return [
        gsrn_with_check_digit("57" + "".join(random.choices("0123456789", k=15))) for _ in range(n)
    ]


# What a deployment sets instead of a home: a CLI run "as a user" has none of them.
OVERRIDES = (
    "DATABASE_URL",
    "KAFKA_BOOTSTRAP",
    "WATTLINE_GATEWAY_URL",
    "WATTLINE_API_KEY",
    "IDENTITY_KEY",
)


def wattline(
    *args: str, home: Path | None, cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`wattline ARGS` as a user runs it: only the home says which system."""
    env = {k: v for k, v in os.environ.items() if k not in (*OVERRIDES, "WATTLINE_HOME")}
    if home is not None:
        env["WATTLINE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "wattline", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(fetch: Any, done: Any, timeout: float = 120) -> Any:
    """Call *fetch* until *done* of its value, or *timeout* seconds; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.5)
