"""`wattline up` gives every service its outside addresses from the endpoint registry.

The environment the supervisor builds for each child is read back through the services' own
settings classes: settlement's Energi Data Service is the simulator of *this* system (the 502
of a spot-price import on another system's port), datahub has its token URL and credentials,
the simulator follows no clock.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from wattline_datahub.settings import DatahubSettings
from wattline_gateway.bootstrap import GatewaySettings
from wattline_platform.config import PlatformSettings
from wattline_portfolio.settings import PortfolioSettings
from wattline_settlement.settings import SettlementSettings
from wattline_simulator.settings import SimulatorSettings

from wattline.registry import SERVICES
from wattline.supervisor import Supervisor

BASE = 23400
SIM = f"http://127.0.0.1:{BASE + 106}"
ChildEnv = Callable[[str], dict[str, str]]


@pytest.fixture
def child_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChildEnv:
    """Switch the process environment to what the supervisor gives service *name*."""
    monkeypatch.setenv("CLOCK_URL", "")  # a shell's empty value is no clock
    monkeypatch.setenv("WATTLINE_DATAHUB_URL", "https://b2b.datahub3.dk")  # a stray shell value
    supervisor = Supervisor(home=tmp_path, base_port=BASE)
    supervisor.admin_dsn = "postgresql://postgres@127.0.0.1:1/wattline"
    supervisor.bootstrap = "127.0.0.1:2"
    supervisor.pg = None

    def switch(name: str) -> dict[str, str]:
        env = supervisor._service_env(name)
        for key in list(os.environ):
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return env

    return switch


def test_settlement_fetches_spot_prices_from_this_system_s_simulator(child_env: ChildEnv) -> None:
    child_env("settlement")
    assert SettlementSettings().eds_base_url == SIM
    assert PlatformSettings().clock_url == SIM + "/sim/clock"


def test_datahub_is_this_system_s_simulator_with_its_token_endpoint(child_env: ChildEnv) -> None:
    child_env("datahub")
    settings = DatahubSettings()
    settings.require_datahub()
    assert settings.url == SIM
    assert settings.token_url == SIM + "/oauth2/v2.0/token"
    simulator = SimulatorSettings()
    assert settings.client_id == simulator.client_id
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == simulator.client_secret
    assert settings.port == BASE + 102


def test_portfolio_and_gateway(child_env: ChildEnv) -> None:
    child_env("portfolio")
    assert PortfolioSettings().address_lookup_url == SIM + "/sim/addresses/{dar_id}"
    child_env("gateway")
    assert GatewaySettings().metrics_port == BASE + 100  # /metrics apart from the public port
    assert GatewaySettings().services == {
        e.name: f"http://127.0.0.1:{BASE + e.port_offset}" for e in SERVICES if e.name != "gateway"
    }


def test_the_simulator_follows_no_clock(child_env: ChildEnv) -> None:
    env = child_env("simulator")
    assert "CLOCK_URL" not in env
    assert PlatformSettings().clock_url is None
