"""The e2e session's system: one `wattline up` shared by the tests that don't restart it,
driven through the scenario steps of scenario.py (it is a System too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scenario import Scenario, started


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    yield from started(tmp_path_factory.mktemp("wattline-e2e"))
