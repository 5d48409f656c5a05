"""Documents of several transactions (Series / MktActivityRecord) give one model each."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from wattline_cim import (
    AccountingPointCharacteristics,
    CimError,
    GenericNotification,
    MeasureDataRequest,
    dumps,
    parse_document,
    parse_documents,
)

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"
ENERGINET = Path(__file__).parent / "energinet"


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text("utf-8-sig"), parse_float=Decimal)
    return doc


def test_energinets_two_transaction_request_is_two_requests() -> None:
    raw = (ENERGINET / "ValidRequestValidatedMeasurementsWithTwoTransactions.json").read_bytes()
    # Energinet's made-up metering point id fails the GS1 check digit we hold every GSRN to.
    with pytest.raises(CimError, match=r"Series/0: gsrn: .*wrong GS1 check digit"):
        parse_documents(raw)
    doc = _load(ENERGINET / "ValidRequestValidatedMeasurementsWithTwoTransactions.json")
    for series in doc["RequestValidatedMeasureData_MarketDocument"]["Series"]:
        series["marketEvaluationPoint.mRID"]["value"] = "579999993331812342"  # its check digit
    first, second = parse_documents(dumps(doc))
    assert isinstance(first, MeasureDataRequest) and isinstance(second, MeasureDataRequest)
    assert (first.transaction_id, second.transaction_id) == ("1568914", "1568915")
    for request in (first, second):
        assert request.message_id == "111131835"
        assert request.gsrn == "579999993331812342"
        assert request.start == datetime(2022, 7, 17, 22, tzinfo=UTC)
        assert request.end == datetime(2022, 8, 17, 22, tzinfo=UTC)
    with pytest.raises(CimError, match="Series: 2 transactions; parse_documents"):
        parse_document(dumps(doc))


def test_a_notification_of_two_records_is_two_notifications() -> None:
    doc = _load(FIXTURES / "rsm004-generic-notification-end-of-supply.json")
    body = doc["GenericNotification_MarketDocument"]
    other = copy.deepcopy(body["MktActivityRecord"][0])
    other["mRID"] = "second"
    other["marketEvaluationPoint.mRID"]["value"] = "571313199900000022"
    body["MktActivityRecord"].append(other)
    first, second = parse_documents(dumps(doc))
    assert isinstance(first, GenericNotification) and isinstance(second, GenericNotification)
    assert second.transaction_id == "second"
    assert (first.gsrn, second.gsrn) == ("571313199900000015", "571313199900000022")
    assert first.validity_start == second.validity_start


def test_master_data_of_two_records_is_two_and_one_document_models_stay_one() -> None:
    doc = _load(FIXTURES / "rsm022-accounting-point-characteristics.json")
    records = doc["AccountingPointCharacteristics_MarketDocument"]["MktActivityRecord"]
    records.append(copy.deepcopy(records[0]))
    records[1]["mRID"] = "second"
    docs = parse_documents(dumps(doc))
    assert [type(d) for d in docs] == [AccountingPointCharacteristics] * 2
    assert [d.transaction_id for d in docs] == [records[0]["mRID"], "second"]  # type: ignore[union-attr]
    [measure] = parse_documents(
        (FIXTURES / "rsm012-validated-measure-data-pt1h-2025-01-15.json").read_bytes()
    )
    assert measure == parse_document(
        (FIXTURES / "rsm012-validated-measure-data-pt1h-2025-01-15.json").read_bytes()
    )
