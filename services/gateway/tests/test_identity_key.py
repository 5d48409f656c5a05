"""The gateway needs the identity key: without it, it would forward requests nobody answers."""

from __future__ import annotations

import pytest
from wattline_gateway.bootstrap import GatewaySettings, build
from wattline_platform.config import MissingSettings


def test_the_gateway_does_not_start_without_an_identity_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IDENTITY_KEY")
    with pytest.raises(MissingSettings, match="IDENTITY_KEY"):
        build(GatewaySettings(services={"portfolio": "http://127.0.0.1:1"}))
    monkeypatch.setenv("IDENTITY_KEY", "")  # an empty compose substitution is no key either
    with pytest.raises(MissingSettings, match="IDENTITY_KEY"):
        build(GatewaySettings(services={"portfolio": "http://127.0.0.1:1"}))
