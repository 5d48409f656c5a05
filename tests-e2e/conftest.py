"""The e2e session's system: one `wattline up` shared by the tests that don't restart it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_system import System, running


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from running(tmp_path_factory.mktemp("wattline-e2e"))
