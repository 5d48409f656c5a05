"""Datahub subscriptions: requests the portfolio and reconciliation raise."""

from __future__ import annotations

from wattline_contracts.portfolio import DataHubRequestRaisedV1
from wattline_contracts.reconciliation import DataRequestRaisedV1
from wattline_platform.service import Service

from wattline_datahub.outbound import Outbound


def register(service: Service, outbound: Outbound) -> None:
    """Route consumed event types to handlers."""
    assert service.consumer is not None
    service.consumer.on(DataHubRequestRaisedV1)(outbound.record)
    service.consumer.on(DataRequestRaisedV1)(outbound.record_data_request)
