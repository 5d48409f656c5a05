"""Gateway tests: each gateway serves its /metrics on a free port of its own (tests run side
by side; the default, 8100, would collide). A test that wants the port passes it itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def metrics_on_any_free_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WATTLINE_GATEWAY_METRICS_PORT", "0")
    yield
