"""The notifications service starts on a real database and broker and reports itself ready."""

from wattline_notifications.bootstrap import build
from wattline_platform.testing import BootService


async def test_notifications_starts_ready(boot_service: BootService) -> None:
    ready = await boot_service(build)
    assert set(ready["checks"]) == {"database", "migrations", "broker"}
    assert (ready["service"], ready["status"]) == ("notifications", "ready")
