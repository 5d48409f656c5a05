"""Portfolio consumes no events yet; DataHub answers arrive here in later issues."""

from __future__ import annotations

from wattline_platform.service import Service


def register(service: Service) -> None:
    """Subscribe the portfolio's event handlers (none yet)."""
    del service
