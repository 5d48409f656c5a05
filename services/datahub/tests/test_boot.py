"""The datahub service starts on a real database and broker; readiness includes DataHub."""

from wattline_datahub.bootstrap import build
from wattline_platform.testing import BootService


async def test_datahub_is_not_ready_while_datahub_is_unreachable(
    boot_service: BootService, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("WATTLINE_DATAHUB_URL", "http://127.0.0.1:9")  # nothing listens there
    ready = await boot_service(build, wait_s=3)
    checks = ready["checks"]
    assert set(checks) == {"database", "migrations", "broker", "datahub"}
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert not checks["datahub"]["ok"] and "unreachable" in checks["datahub"]["detail"]
    assert ready["status"] == "not-ready"
