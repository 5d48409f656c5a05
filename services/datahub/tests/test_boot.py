"""The datahub service starts on a real database and broker; readiness includes DataHub.

DataHub's address and our credentials have no defaults: without them the service refuses to
start with one line naming what to set.
"""

import os
import subprocess
import sys

import pytest
from wattline_datahub.bootstrap import build
from wattline_datahub.settings import DatahubSettings
from wattline_platform.config import MissingSettings
from wattline_platform.testing import BootService

DATAHUB_ENV = (
    "WATTLINE_DATAHUB_URL",
    "WATTLINE_DATAHUB_TOKEN_URL",
    "WATTLINE_DATAHUB_CLIENT_ID",
    "WATTLINE_DATAHUB_CLIENT_SECRET",
)


async def test_datahub_is_not_ready_while_datahub_is_unreachable(
    boot_service: BootService, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens there
    monkeypatch.setenv("WATTLINE_DATAHUB_URL", dead)
    monkeypatch.setenv("WATTLINE_DATAHUB_TOKEN_URL", dead + "/oauth2/v2.0/token")
    monkeypatch.setenv("WATTLINE_DATAHUB_CLIENT_ID", "wattline")
    monkeypatch.setenv("WATTLINE_DATAHUB_CLIENT_SECRET", "dev-secret")
    ready = await boot_service(build, wait_s=3)
    checks = ready["checks"]
    assert set(checks) == {"database", "migrations", "broker", "datahub"}
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert not checks["datahub"]["ok"] and "unreachable" in checks["datahub"]["detail"]
    assert ready["status"] == "not-ready"


def test_datahub_names_every_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DATAHUB_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WATTLINE_DATAHUB_CLIENT_ID", "wattline")
    with pytest.raises(MissingSettings) as raised:
        build(DatahubSettings())
    assert raised.value.env_names == [
        "WATTLINE_DATAHUB_URL",
        "WATTLINE_DATAHUB_TOKEN_URL",
        "WATTLINE_DATAHUB_CLIENT_SECRET",
    ]


def test_an_empty_secret_is_missing_too() -> None:
    settings = DatahubSettings(
        url="https://b2b.datahub3.dk",
        token_url="https://login.microsoftonline.com/t/oauth2/v2.0/token",
        client_id="wattline",
        client_secret="",
    )
    with pytest.raises(MissingSettings, match=r"WATTLINE_DATAHUB_CLIENT_SECRET$"):
        settings.require_datahub()


def test_the_service_started_unconfigured_exits_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in DATAHUB_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "wattline_datahub"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "datahub: not configured, set WATTLINE_DATAHUB_URL, WATTLINE_DATAHUB_TOKEN_URL, "
        "WATTLINE_DATAHUB_CLIENT_ID, WATTLINE_DATAHUB_CLIENT_SECRET"
    ]
