"""No service answers without the gateway's signed identity, on the running system.

Every route of every service's own OpenAPI document is called straight at the service's port,
as an attacker on the host network would: without the identity, with one signed by another
key, and with a genuine one that has expired, each is 401 problem+json. The same requests
through the gateway with an API key are answered, and the CLI still drives the simulator and
binds keys to a channel.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from e2e_system import System, wattline
from wattline_platform.identity import IDENTITY_HEADER, Identity, new_key, sign

from wattline.registry import SERVICES

pytestmark = pytest.mark.e2e

METHODS = ("get", "post", "put", "patch", "delete")
ADMIN = Identity("attacker", "attacker", frozenset({"admin"}))


def _concrete(template: str) -> str:
    """A path of *template* with every parameter filled (its value does not matter: a request
    without identity must be refused before its parameters are even looked at)."""
    return re.sub(r"\{[^}]+\}", "1", template)


def _protected(service: str, method: str, path: str) -> bool:
    if path.startswith("/api/"):
        return True
    # The simulator's control routes; DataHub's own protocol has its OAuth, and the clock and
    # the address register stay open for the system's own processes.
    open_reads = path == "/sim/clock" or path.startswith("/sim/addresses/")
    return (
        service == "simulator" and path.startswith("/sim/") and not (method == "get" and open_reads)
    )


async def _routes(client: httpx.AsyncClient, base: str, service: str) -> list[tuple[str, str]]:
    document = (await client.get(f"{base}/schema/openapi.json")).json()
    return [
        (method, _concrete(path))
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item and _protected(service, method, path)
    ]


async def test_every_service_port_refuses_every_route_without_a_genuine_identity(
    system: System,
) -> None:
    expired = sign(ADMIN, system.identity_key, now=datetime.now(UTC) - timedelta(minutes=3))
    attempts = {
        "no identity": {},
        "forged": {IDENTITY_HEADER: sign(ADMIN, new_key())},
        "expired": {IDENTITY_HEADER: expired},
    }
    answered: list[str] = []
    checked = 0
    async with httpx.AsyncClient(timeout=30) as client:
        for entry in SERVICES:
            if entry.name == "gateway":
                continue
            base = f"http://127.0.0.1:{system.base_port + entry.port_offset}"
            routes = await _routes(client, base, entry.name)
            assert routes, f"{entry.name} documents no protected route"
            for method, path in routes:
                for what, headers in attempts.items():
                    response = await client.request(
                        method, base + path, headers=headers, json={} if method != "get" else None
                    )
                    checked += 1
                    refused = response.status_code == 401 and response.headers.get(
                        "content-type", ""
                    ).startswith("application/problem+json")
                    if not refused:
                        answered.append(
                            f"{entry.name} {method.upper()} {path} ({what}): "
                            f"{response.status_code} {response.text[:120]}"
                        )
            # The open doors stay open: probes and Prometheus.
            assert (await client.get(f"{base}/health/live")).status_code == 200
            assert (await client.get(f"{base}/metrics")).status_code == 200
    assert answered == [], "\n".join(answered)
    assert checked > 200  # every service's routes, three ways each

    # A genuine identity is let in, and the gateway signs one for an API key.
    settlement = next(e for e in SERVICES if e.name == "settlement")
    direct = f"http://127.0.0.1:{system.base_port + settlement.port_offset}"
    async with httpx.AsyncClient(auth=system.identity_auth(), timeout=30) as signed:
        assert (await signed.get(f"{direct}/api/settlement/runs")).status_code == 200
    async with system.client() as gateway:
        assert (await gateway.get("/api/settlement/runs")).status_code == 200


def test_the_cli_signs_for_the_simulator_and_binds_keys_to_a_channel(
    system: System, tmp_path: Path
) -> None:
    key_file = system.home / "identity.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    clock = wattline("sim", "clock", home=system.home, cwd=tmp_path)
    assert clock.returncode == 0, clock.stderr
    assert "market clock:" in clock.stdout

    created = wattline(
        "apikey", "create", "--name", "shop-e2e", "--scopes", "signup:write signups:read",
        "--channel", "shop", home=system.home, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    listed = wattline("apikey", "list", home=system.home, cwd=tmp_path)
    [line] = [row for row in listed.stdout.splitlines() if row.startswith("shop-e2e")]
    assert line.endswith("channel shop")
    refused = wattline(
        "apikey", "create", "--name", "bad-e2e", "--scopes", "signup:write",
        "--channel", "Not A Channel", home=system.home, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode != 0 and "invalid channel" in refused.stderr
