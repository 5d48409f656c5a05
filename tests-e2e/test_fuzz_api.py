"""Schemathesis against the public API: no request makes a 5xx, every error is problem+json,
every answer is what the gateway's OpenAPI document says (its schema and its status codes).

Bounded and reproducible: a few examples per operation (the schema's own examples, the
coverage phase's boundary values and a short fuzzing phase), generated deterministically, so a
run in CI fuzzes what it fuzzed on the developer's machine. It runs on a system of its own:
the thousands of products, signups, webhooks and settlement runs it asks for would change what
the other tests of the session see. With the admin key it reaches the services; without a key
the gateway alone answers (401; its limit on failed authentications is raised for the run, so
that a 429 hides nothing).

The simulator (DataHub's stand-in) has no routes through the gateway: it is fuzzed on its own
port with the gateway's signed identity (fuzz_checks.py), its fault, seed and clock routes
left out.

The customer portal's routes answer only a customer's portal token (an admin key gets 403
there): they are fuzzed apart, with the token of a real customer of the system (the go-live
import's), and about half the requests that name a metering point name that customer's own
(fuzz_checks.py), so hostile dates and resolutions reach the code that reads its data. The
same token on a back-office route is 403.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_system import System, wait_for, wattline

pytestmark = pytest.mark.e2e

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "problem_json_errors",  # fuzz_checks.py
)
EXAMPLES_PER_OPERATION = 10
HERE = Path(__file__).parent
PHASE_DONE = re.compile(r"(Examples|Coverage|Fuzzing) \(in [\d.]+s\)")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    # Schemathesis also sends requests without the key (is auth enforced?): their 401s would
    # soon have the gateway answer this client address 429 whatever key it sends.
    s = System(
        tmp_path_factory.mktemp("wattline-fuzz"),
        settings={
            "WATTLINE_GATEWAY_FAILED_AUTH_PER_MINUTE": "1000000",
            "WATTLINE_GATEWAY_PORTAL_RATE_LIMIT_PER_MINUTE": "1000000",
        },
    )
    s.start()
    try:
        yield s
    finally:
        if s.proc is not None:
            s.stop()


def admin_key(system: System) -> str:
    """An admin key whose rate limit lets the fuzzing through (the dev key's would turn most
    requests into 429s and test nothing behind the gateway)."""
    out = subprocess.run(
        [
            *(sys.executable, "-m", "wattline", "apikey", "create", "--name", "fuzz"),
            *("--scopes", "admin", "--rate-limit", "1000000"),
        ],
        env=system.cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


PORTAL_PATHS = "^/api/[a-z]+/portal/"


@dataclass(frozen=True)
class PortalCustomer:
    """A customer of ours with a metering point, and a portal token for them."""

    customer_id: str
    gsrn: str
    token: str


@pytest.fixture(scope="module")
def portal_customer(fuzzed: System, tmp_path_factory: pytest.TempPathFactory) -> PortalCustomer:
    return a_portal_customer(fuzzed, tmp_path_factory.mktemp("portal-seed"))


def a_portal_customer(fuzzed: System, cwd: Path) -> PortalCustomer:
    """A real customer: a small market seeded, our share of it entering the portfolio through
    the go-live import; the token once settlement knows the customer's supply (the portal's
    spot prices answer 200, not 404)."""
    seeded = wattline("sim", "seed", "--metering-points", "4", "--seed", "14", "--ours-share",
                      "0.5", "--customers", "1", home=fuzzed.home, cwd=cwd)  # fmt: skip
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    with httpx.Client(base_url=fuzzed.url, headers={"X-API-Key": fuzzed.key}, timeout=60) as api:
        imported = httpx.get(
            f"{fuzzed.simulator_url}/sim/portfolio-import.csv",
            auth=fuzzed.identity_auth(),
            timeout=30,
        )
        assert imported.status_code == 200, imported.text
        row = next(csv.DictReader(io.StringIO(imported.text)))
        found = wait_for(
            lambda: api.get("/api/customers", params={"search": row["cpr_cvr"]}).json(),
            lambda page: len(page["items"]) == 1,
        )
        [customer] = found["items"]
        issued = api.post("/api/portal-tokens", json={"customer_id": customer["customer_id"]})
        assert issued.status_code == 201, issued.text
        token = issued.json()["token"]
        known = wait_for(
            lambda: httpx.get(  # not with api's X-API-Key: it would be the credential
                f"{fuzzed.url}/api/settlement/portal/spot-prices",
                params={"date": "2025-01-15"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ),
            lambda r: r.status_code == 200,
        )
        assert known.status_code == 200, known.text
    return PortalCustomer(customer["customer_id"], row["gsrn"], token)


@dataclass(frozen=True)
class Target:
    """What one run fuzzes: whose OpenAPI document, as whom, leaving out what."""

    base_url: str
    headers: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    options: tuple[str, ...] = ()


def target(system: System, auth: str, customer: PortalCustomer | None = None) -> Target:
    if auth == "admin-key":
        # The customer portal's routes answer only a customer's portal token (an admin key
        # gets 403 there by design): the portal-token run fuzzes them. Revoking a key by name
        # is left out: fuzzed, it revoked the system's own admin key and every later call
        # was 401 (the gateway tests cover it).
        return Target(
            system.url,
            headers=(f"Authorization: Bearer {admin_key(system)}",),
            options=("--exclude-path-regex", f"({PORTAL_PATHS}|^/api/api-keys/)"),
        )
    if auth == "portal-token":
        assert customer is not None
        return Target(
            system.url,
            headers=(f"Authorization: Bearer {customer.token}",),
            env=(("FUZZ_PORTAL_GSRN", customer.gsrn),),
            options=("--include-path-regex", PORTAL_PATHS),
        )
    if auth == "no-key":
        return Target(system.url)
    # DataHub's stand-in, straight at its port with the gateway's identity: its fault, seed
    # and clock routes are left out (they would break, fill or fast-forward the market).
    return Target(
        system.simulator_url,
        env=(("FUZZ_IDENTITY_KEY", system.identity_key),),
        options=("--exclude-path-regex", "^/sim/(faults|seed|clock)$"),
    )


def schemathesis(
    system: System, run: Target, reports: Path, progress: Callable[[str], None]
) -> tuple[int, str, float]:
    """Run the CLI once, passing its phases' results to *progress*; its exit code, output
    and seconds."""
    env = {
        **system.env,
        **dict(run.env),
        "SCHEMATHESIS_HOOKS": "fuzz_checks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{run.base_url}/schema/openapi.json"),
        *("--url", run.base_url),
        *(arg for header in run.headers for arg in ("-H", header)),
        *run.options,
        *("--checks", ",".join(CHECKS)),
        *("--phases", "examples,coverage,fuzzing"),
        *("--max-examples", str(EXAMPLES_PER_OPERATION)),
        "--generation-deterministic",  # no seed, no examples carried over from a run before
        *("--workers", "2"),
        *("--request-timeout", "30"),
        "--no-color",
        *("--report", "json,har", "--report-dir", str(reports)),
    ]
    started = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        command,
        env=env,
        cwd=reports.parent,  # its replay cache (.schemathesis/) with the reports, not in the repo
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as cli:
        assert cli.stdout is not None
        for line in cli.stdout:
            lines.append(line)
            if PHASE_DONE.search(line):  # "✅  Coverage (in 17.37s)"
                progress(f"{line.strip()} after {time.monotonic() - started:.0f} s")
        code = cli.wait(timeout=300)
    return code, "".join(lines), time.monotonic() - started


def har_entries(reports: Path) -> list[dict[str, Any]]:
    (har,) = reports.glob("har-*.json")
    entries: list[dict[str, Any]] = json.loads(har.read_text())["log"]["entries"]
    return entries


def summary(reports: Path) -> tuple[int, collections.Counter[int], dict[str, int], dict[str, Any]]:
    """Requests sent, their statuses, failures per check and the run's JSON report."""
    (report_file,) = reports.glob("json-*.json")
    entries = har_entries(reports)
    statuses = collections.Counter(e["response"]["status"] for e in entries)
    report = json.loads(report_file.read_text())
    failures = {f"{f['code']} {f['title']}": f["count"] for f in report["failures"]}
    return len(entries), statuses, failures, report


@pytest.mark.parametrize("auth", ["admin-key", "no-key", "simulator", "portal-token"])
def test_fuzzing_the_public_api(
    fuzzed: System,
    auth: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    def progress(text: str) -> None:
        with capsys.disabled():
            print(f"\nfuzz [{auth}]: {text}", end="", flush=True)

    customer = request.getfixturevalue("portal_customer") if auth == "portal-token" else None
    run = target(fuzzed, auth, customer)
    reports = tmp_path / "reports"
    progress(f"schemathesis against {run.base_url}/schema/openapi.json")
    code, output, seconds = schemathesis(fuzzed, run, reports, progress)
    (tmp_path / "schemathesis.txt").write_text(output)
    assert list(reports.glob("*.json")), output[-3000:]  # it ran (its options were taken)
    requests, statuses, failures, report = summary(reports)
    line = (
        f"{requests} requests to {report['operations']['tested']} operations "
        f"in {seconds:.1f} s; statuses {dict(sorted(statuses.items()))}; failures by check: "
        + (", ".join(f"{k}: {n}" for k, n in failures.items()) or "none")
    )
    progress(line + "\n")

    assert report["operations"]["tested"] == report["operations"]["selected"] > 0, output[-3000:]
    assert not report["errors"], output[-5000:]
    assert failures == {} and code == 0, line + "\n" + output[-20000:]
    assert not [s for s in statuses if s >= 500]  # the HAR agrees: not one 5xx was answered
    if auth != "no-key":
        # Past the credentials, not only at them: the services answered successes as well.
        assert sum(n for s, n in statuses.items() if s < 300) > requests / 20, statuses
        assert statuses[429] < requests / 20, statuses  # the key's rate limit was no wall
    else:
        # Without a key nothing gets through: refused, or not even routed (bad method or
        # path); only an OPTIONS is answered (204, the methods allowed).
        through = [e for e in har_entries(reports) if e["response"]["status"] < 400]
        assert {e["request"]["method"] for e in through} <= {"OPTIONS"}, through[:3]
        assert statuses[401] > 200, statuses


def test_a_portal_token_reaches_no_back_office_route(
    fuzzed: System, portal_customer: PortalCustomer
) -> None:
    """What the portal-token run leaves out: the token anywhere but a portal read is 403
    problem+json, its own customer's data included."""
    me = {"Authorization": f"Bearer {portal_customer.token}"}
    with httpx.Client(base_url=fuzzed.url, headers=me, timeout=30) as web:
        for method, path in (
            ("GET", "/api/customers"),
            ("GET", f"/api/customers/{portal_customer.customer_id}"),
            ("GET", f"/api/settlement/metering-points/{portal_customer.gsrn}"),
            ("GET", "/api/invoices"),
            ("GET", "/api/audit"),
            ("POST", "/api/portal-tokens"),
            ("POST", "/api/portfolio/portal/metering-points"),
            ("GET", "/api/datahub/portal/metering-points"),
        ):
            answer = web.request(method, path, json={"customer_id": portal_customer.customer_id})
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
        # The same token on its portal: through.
        assert web.get("/api/portfolio/portal/metering-points").status_code == 200
