"""Datahub subscriptions: requests the portfolio and reconciliation raise (thin: the
platform decodes and deduplicates, a handler records)."""

from __future__ import annotations

from functools import partial

from wattline_contracts.portfolio import DataHubRequestRaisedV1
from wattline_contracts.reconciliation import DataRequestRaisedV1

from wattline_datahub.handlers import Datahub, requests


def register(dh: Datahub) -> None:
    """Route consumed event types to handlers."""
    consumer = dh.service.consumer
    assert consumer is not None
    consumer.on(DataHubRequestRaisedV1)(partial(requests.record_request, dh))
    consumer.on(DataRequestRaisedV1)(partial(requests.record_data_request, dh))
