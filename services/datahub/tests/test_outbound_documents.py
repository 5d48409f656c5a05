"""Each request kind becomes the right, schema-valid CIM document (pure)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from wattline_cim import build_document, dumps, parse_document, validate
from wattline_contracts.portfolio import DataHubRequestRaisedV1
from wattline_datahub.domain.outbound import InvalidRequest, to_document

NOW = datetime(2025, 1, 10, 9, 30, tzinfo=UTC)
GSRN = "571313199900000015"


def _document(kind: str, **fields: object) -> tuple[str, dict[str, object]]:
    request = DataHubRequestRaisedV1.model_validate(
        {"request_id": "r-1", "kind": kind, "gsrn": GSRN, **fields}
    )
    document_type, doc = to_document(
        request,
        customer_id="30000005" if "customer_scheme" in fields else None,
        supplier_gln="5799994000015",
        message_id="m-1",
        transaction_id="t-1",
        now=NOW,
    )
    body = build_document(doc)
    validate(body)
    assert parse_document(dumps(body)) == doc
    return document_type, body


@pytest.mark.parametrize(
    ("kind", "process_type"),
    [
        ("BRS-001", "E03"),
        ("BRS-002", "E20"),
        ("BRS-003", "D07"),
        ("BRS-009", "E65"),
        ("BRS-010", "E66"),
        ("BRS-011", "D33"),
    ],
)
def test_brs_requests_carry_their_process_type_and_local_midnight(
    kind: str, process_type: str
) -> None:
    document_type, body = _document(
        kind, effective_date=date(2025, 2, 1), customer_scheme="VAT", customer_name="Eksempel ApS"
    )
    assert document_type == "RequestChangeOfSupplier"
    root = body["RequestChangeOfSupplier_MarketDocument"]
    assert root["process.processType"] == {"value": process_type}  # type: ignore[index]
    text = json.dumps(body)
    assert '"2025-01-31T23:00:00Z"' in text  # 1 February, Danish local midnight
    assert '"30000005"' in text and '"VAT"' in text


def test_a_summer_date_starts_at_22_utc() -> None:
    _, body = _document("BRS-009", effective_date=date(2025, 7, 1))
    assert '"2025-06-30T22:00:00Z"' in json.dumps(body)


def test_data_requests() -> None:
    start, end = datetime(2025, 1, 14, 23, tzinfo=UTC), datetime(2025, 1, 15, 23, tzinfo=UTC)
    assert (
        _document("RSM-015", period_start=start, period_end=end)[0] == "RequestValidatedMeasureData"
    )
    kind, body = _document(
        "RSM-016", gsrn=None, period_start=start, period_end=end, grid_area="344"
    )
    assert kind == "RequestAggregatedMeasureData" and '"344"' in json.dumps(body)
    _, only_flex = _document(
        "RSM-016", gsrn=None, period_start=start, period_end=end, grid_area="344",
        metering_point_type="E17",
    )  # fmt: skip
    [series] = only_flex["RequestAggregatedMeasureData_MarketDocument"]["Series"]  # type: ignore[index]
    assert series["marketEvaluationPoint.type"]["value"] == "E17"


def test_a_wholesale_settlement_request_asks_for_our_month_of_one_grid_area() -> None:
    # January 2025 in Danish local days: 2024-12-31T23:00Z to 2025-01-31T23:00Z.
    start, end = datetime(2024, 12, 31, 23, tzinfo=UTC), datetime(2025, 1, 31, 23, tzinfo=UTC)
    document_type, body = _document(
        "RSM-017", gsrn=None, period_start=start, period_end=end, grid_area="344"
    )
    assert document_type == "RequestWholesaleSettlement"
    [series] = body["RequestWholesaleSettlement_MarketDocument"]["Series"]  # type: ignore[index]
    assert series["meteringGridArea_Domain.mRID"]["value"] == "344"
    assert series["energySupplier_MarketParticipant.mRID"]["value"] == "5799994000015"
    assert series["start_DateAndOrTime.dateTime"] == "2024-12-31T23:00:00Z"
    assert series["end_DateAndOrTime.dateTime"] == "2025-01-31T23:00:00Z"
    with pytest.raises(InvalidRequest, match="grid_area is required"):
        _document("RSM-017", gsrn=None, period_start=start, period_end=end)


def test_missing_fields_are_named() -> None:
    with pytest.raises(InvalidRequest, match="effective_date is required"):
        _document("BRS-001")
    with pytest.raises(InvalidRequest, match="period_start is required"):
        _document("RSM-015")


def test_a_cancellation_refers_to_the_request_it_cancels() -> None:
    from wattline_contracts.portfolio import transaction_id_for

    request = DataHubRequestRaisedV1(
        request_id="r-2",
        kind="RSM-002",
        gsrn=GSRN,
        cancels_request_id="r-1",
        cancels_kind="BRS-009",
    )
    document_type, doc = to_document(
        request,
        customer_id=None,
        supplier_gln="5799994000015",
        message_id="m-2",
        transaction_id="t-2",
        now=NOW,
    )
    assert document_type == "RequestCancelChangeOfSupplier"
    root = build_document(doc)["RequestCancelChangeOfSupplier_MarketDocument"]
    assert root["process.processType"] == {"value": "E65"}
    [record] = root["MktActivityRecord"]
    assert record["originalTransactionIDReference_MktActivityRecord.mRID"] == transaction_id_for(
        "r-1"
    )
    with pytest.raises(InvalidRequest, match="cancels_request_id is required"):
        to_document(
            DataHubRequestRaisedV1(request_id="r-3", kind="RSM-002", gsrn=GSRN),
            customer_id=None,
            supplier_gln="5799994000015",
            message_id="m",
            transaction_id="t",
            now=NOW,
        )
