"""Settlement's subscriptions (thin: the platform decodes and deduplicates)."""

from __future__ import annotations

from wattline_contracts.portfolio import MeteringPointRegisteredV1
from wattline_platform.service import Service

from wattline_settlement import handlers, metering, pricing


def register(service: Service) -> None:
    """Route each consumed event type to its handler."""
    assert service.consumer is not None
    service.consumer.on(MeteringPointRegisteredV1)(handlers.on_metering_point_registered)
    metering.register(service)
    pricing.register(service)
