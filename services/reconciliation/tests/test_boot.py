"""The reconciliation service starts on a real database and broker and reports itself ready."""

from wattline_platform.testing import BootService
from wattline_reconciliation.bootstrap import build


async def test_reconciliation_starts_ready(boot_service: BootService) -> None:
    ready = await boot_service(build)
    assert set(ready["checks"]) == {"database", "migrations", "broker"}
    assert (ready["service"], ready["status"], ready["live"]["status"]) == (
        "reconciliation",
        "ready",
        "alive",
    )
