"""The gateway's routes have no default: forwarding to ports of whatever runs locally is wrong."""

import pytest
from wattline_gateway.bootstrap import GatewaySettings, build
from wattline_platform.config import MissingSettings


def test_a_gateway_without_services_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATTLINE_GATEWAY_SERVICES", raising=False)
    assert GatewaySettings().services == {}
    with pytest.raises(MissingSettings) as raised:
        build(GatewaySettings())
    assert str(raised.value) == "gateway: not configured, set WATTLINE_GATEWAY_SERVICES"


def test_the_routes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTLINE_GATEWAY_SERVICES", '{"portfolio": "http://portfolio:8101"}')
    assert GatewaySettings().services == {"portfolio": "http://portfolio:8101"}
