"""Reconciliation's subscriptions (thin: the platform decodes and deduplicates)."""

from __future__ import annotations

from wattline_contracts.datahub import (
    AggregationsReceivedV1,
    DataRequestRejectedV1,
    MeasureDataReceivedV1,
    RequestFailedV1,
    RequestSentV1,
    WholesaleServicesReceivedV1,
)
from wattline_contracts.portfolio import MeteringPointRegisteredV1, SupplyPeriodChangedV1
from wattline_contracts.settlement import SettlementCompletedV1, SettlementCorrectionV1

from wattline_reconciliation.handlers import Reconciliation, ingest, requests, wholesale


def register(rec: Reconciliation) -> None:
    """Route each consumed event type to its handler."""
    consumer = rec.service.consumer
    assert consumer is not None
    consumer.on(AggregationsReceivedV1)(ingest.on_aggregations)
    consumer.on(MeteringPointRegisteredV1)(ingest.on_metering_point)
    consumer.on(SupplyPeriodChangedV1)(ingest.on_supply_period)
    consumer.on(MeasureDataReceivedV1)(ingest.on_measure_data)
    consumer.on(WholesaleServicesReceivedV1)(wholesale.on_wholesale_services)
    consumer.on(SettlementCompletedV1)(wholesale.on_settlement_completed)
    consumer.on(SettlementCorrectionV1)(wholesale.on_settlement_correction)
    # What became of the requests reconciliation raised (the datahub service and DataHub).
    consumer.on(RequestSentV1)(requests.on_request_sent)
    consumer.on(RequestFailedV1)(requests.on_request_failed)
    consumer.on(DataRequestRejectedV1)(requests.on_data_request_rejected)
