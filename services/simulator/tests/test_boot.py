"""The simulator starts and reports itself ready (its own schema, no broker)."""

from wattline_platform.testing import BootService
from wattline_simulator.bootstrap import build


async def test_simulator_starts_ready(boot_service: BootService) -> None:
    ready = await boot_service(build)
    assert (ready["service"], ready["status"], set(ready["checks"])) == (
        "simulator",
        "ready",
        {"database", "migrations"},
    )
