"""The simulator and datahub (and settlement) services as separate processes against one
throwaway stack, as `wattline up` runs them: shared by ``datahub_ingest.py`` and
``scale_out_ingest.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
from wattline_platform import migrations
from wattline_platform.embedded import child_preexec, free_port
from wattline_platform.service import ServiceSpec

CLIENT_ID = "wattline-benchmark"
CLIENT_SECRET = "benchmark-secret"


async def migrate(dsn: str, *specs: ServiceSpec) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for spec in specs:
            assert spec.db_schema is not None
            await migrations.apply(conn, spec.db_schema, spec.migrations())
    finally:
        await conn.close()


def service_env(dsn: str, bootstrap: str, identity_key: str, sim_port: int) -> dict[str, str]:
    """The environment of every service process: one database, one broker, the simulator on
    *sim_port* as DataHub with credentials both sides are given here."""
    return {
        **os.environ,
        "IDENTITY_KEY": identity_key,
        "DATABASE_URL": dsn,
        "KAFKA_BOOTSTRAP": bootstrap,
        "WATTLINE_SIMULATOR_PORT": str(sim_port),
        "WATTLINE_DATAHUB_URL": f"http://127.0.0.1:{sim_port}",
        "WATTLINE_DATAHUB_TOKEN_URL": f"http://127.0.0.1:{sim_port}/oauth2/v2.0/token",
        "WATTLINE_DATAHUB_CLIENT_ID": CLIENT_ID,
        "WATTLINE_DATAHUB_CLIENT_SECRET": CLIENT_SECRET,
        "WATTLINE_SIMULATOR_CLIENT_ID": CLIENT_ID,
        "WATTLINE_SIMULATOR_CLIENT_SECRET": CLIENT_SECRET,
        "LOG_LEVEL": "WARNING",
    }


def start(
    module: str, env: dict[str, str], logs: Path, name: str | None = None, **more: str
) -> subprocess.Popen[bytes]:
    """``python -m module`` with *env* and *more*, its output to ``<logs>/<name>.log``."""
    with (logs / f"{name or module}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            env={**env, **more},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=child_preexec(),
        )


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate *procs* (kill one that does not stop within 30 s)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def print_logs(logs: Path) -> None:
    """The services' last words, to see why a run failed."""
    for log in sorted(logs.glob("*.log")):
        print(f"--- last lines of {log.name} ---\n{log.read_text()[-3000:]}", flush=True)


__all__ = ["free_port", "migrate", "print_logs", "service_env", "start", "stop"]
