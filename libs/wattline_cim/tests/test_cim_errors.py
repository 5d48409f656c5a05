"""Anything unparseable or invalid raises CimError with a one-line reason."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from wattline_cim import (
    CimError,
    MeasureDataDocument,
    build_document,
    dumps,
    parse_document,
    validate,
)
from wattline_cim.schema import schema_dir

# The reference examples live beside the repository, in shared/ (as in CI).
FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"
RSM012 = "rsm012-validated-measure-data-pt1h-2025-01-15.json"
RSM012_ROOT = "NotifyValidatedMeasureData_MarketDocument"


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / name).read_bytes(), parse_float=Decimal)
    return doc


def _reason(doc: dict[str, Any] | bytes | str) -> str:
    raw = doc if isinstance(doc, bytes | str) else dumps(doc)
    with pytest.raises(CimError) as info:
        parse_document(raw)
    message = str(info.value)
    assert "\n" not in message
    return message


def _rsm012() -> tuple[dict[str, Any], dict[str, Any]]:
    doc = _load(RSM012)
    return doc, doc[RSM012_ROOT]["Series"][0]["Period"]


def test_cim_error_is_a_value_error() -> None:
    assert issubclass(CimError, ValueError)


def test_malformed_json() -> None:
    assert _reason(b'{"NotifyValidatedMeasureData_MarketDocument": {').startswith("malformed JSON:")
    assert "not UTF-8" in _reason(b"\xff\xfe{}")
    assert "NaN" in _reason('{"X_MarketDocument": {"q": NaN}}')


def test_unknown_root_and_not_a_single_root() -> None:
    assert _reason({"Foo_MarketDocument": {}}) == "unknown root 'Foo_MarketDocument'"
    assert "exactly one root" in _reason({})
    assert "exactly one root" in _reason({"A": {}, "B": {}})
    assert "exactly one root" in _reason("[1, 2]")


def _refused(doc: dict[str, Any]) -> str:
    """The reason the document's only series was refused (the document itself parses)."""
    parsed = parse_document(dumps(doc))
    assert isinstance(parsed, MeasureDataDocument)
    assert parsed.series == ()
    [refused] = parsed.refused
    assert "\n" not in refused.reason
    return refused.reason


def test_a_left_out_position_is_missing_not_a_refusal() -> None:
    doc, period = _rsm012()
    period["Point"].pop()
    parsed = parse_document(dumps(doc))
    assert isinstance(parsed, MeasureDataDocument)
    assert parsed.refused == ()
    assert [p.position for p in parsed.series[0].points] == list(range(1, 24))


def test_positions_past_the_end_or_repeated_refuse_the_series() -> None:
    doc, period = _rsm012()
    period["Point"][23]["position"]["value"] = 25
    reason = _refused(doc)
    assert reason.startswith("/NotifyValidatedMeasureData_MarketDocument/Series/0:")
    assert "position 25 is past the end: 2025-01-14T23:00Z..2025-01-15T23:00Z at PT1H" in reason
    period["Point"][23]["position"]["value"] = 23
    assert "positions must not repeat" in _refused(doc)


def test_one_bad_series_does_not_refuse_its_neighbour() -> None:
    doc, _ = _rsm012()
    body = doc[RSM012_ROOT]
    bad = _load(RSM012)[RSM012_ROOT]["Series"][0]
    bad["mRID"] = "bad-one"
    bad["marketEvaluationPoint.mRID"]["value"] = "571313199900000016"  # wrong check digit
    body["Series"].insert(0, bad)
    parsed = parse_document(dumps(doc))
    assert isinstance(parsed, MeasureDataDocument)
    [good] = parsed.series
    assert good.transaction_id == body["Series"][1]["mRID"]
    assert len(good.points) == 24
    [refused] = parsed.refused
    assert (refused.index, refused.transaction_id) == (0, "bad-one")
    assert "wrong GS1 check digit" in refused.reason


def test_points_out_of_order_are_sorted() -> None:
    doc, period = _rsm012()
    period["Point"].reverse()
    parsed = parse_document(dumps(doc))
    assert [p.position for p in parsed.series[0].points] == list(range(1, 25))  # type: ignore[union-attr]


def test_interval_with_seconds_fails_the_schema() -> None:
    doc, period = _rsm012()
    period["timeInterval"]["start"]["value"] = "2025-01-14T23:00:00Z"
    reason = _reason(doc)
    assert reason.startswith("schema: /NotifyValidatedMeasureData_MarketDocument/Series/0/Period")
    assert "timeInterval/start/value" in reason
    assert "'2025-01-14T23:00:00Z' does not have the required format" in reason
    with pytest.raises(CimError, match="timeInterval/start/value"):
        validate(doc)


def test_schema_rejects_unknown_keys_and_bad_codes() -> None:
    doc, period = _rsm012()
    doc[RSM012_ROOT]["extra"] = 1
    assert "Additional properties are not allowed ('extra' was unexpected)" in _reason(doc)
    doc, period = _rsm012()
    period["Point"][0]["quality"]["value"] = "A99"
    assert "Point/0/quality/value" in _reason(doc)


def test_created_without_seconds_in_a_document_without_schema() -> None:
    doc = _load("rsm004-generic-notification-end-of-supply.json")
    doc["GenericNotification_MarketDocument"]["createdDateTime"] = "2025-03-03T10:02Z"
    reason = _reason(doc)
    assert reason.startswith("/GenericNotification_MarketDocument/createdDateTime:")
    assert "with seconds" in reason


def test_missing_field_wrong_code_wrong_scheme_bad_check_digit() -> None:
    doc = _load("rsm022-accounting-point-characteristics.json")
    del doc["AccountingPointCharacteristics_MarketDocument"]["MktActivityRecord"][0][
        "MarketEvaluationPoint"
    ]["mRID"]
    assert _reason(doc) == (
        "/AccountingPointCharacteristics_MarketDocument/MktActivityRecord/0/"
        "MarketEvaluationPoint/mRID: missing"
    )

    doc = _load("rsm004-generic-notification-end-of-supply.json")
    body = doc["GenericNotification_MarketDocument"]
    body["type"]["value"] = "E99"
    assert "type: expected E44, got 'E99'" in _reason(doc)

    doc = _load("rsm004-generic-notification-end-of-supply.json")
    record = doc["GenericNotification_MarketDocument"]["MktActivityRecord"][0]
    record["marketEvaluationPoint.mRID"]["codingScheme"] = "NDK"
    assert "codingScheme must be A10, got 'NDK'" in _reason(doc)
    record["marketEvaluationPoint.mRID"] = {"codingScheme": "A10", "value": "571313199900000016"}
    assert "wrong GS1 check digit" in _reason(doc)


def test_answer_reason_code_must_match_root() -> None:
    doc = _load("rsm001-reject-request-change-of-supplier.json")
    doc["RejectRequestChangeOfSupplier_MarketDocument"]["reason.code"]["value"] = "A01"
    assert "reason.code: expected A02, got 'A01'" in _reason(doc)


def test_point_without_quantity_needs_a02() -> None:
    doc, period = _rsm012()
    del period["Point"][4]["quantity"]
    assert "point 5 has no quantity but quality is not A02" in _refused(doc)
    period["Point"][4]["quality"]["value"] = "A02"
    parsed = parse_document(dumps(doc))
    point = parsed.series[0].points[4]  # type: ignore[union-attr]
    assert (point.quantity, point.quality) == (None, "A02")


def test_rsm014_point_without_quality_and_a02_without_quantity_are_accepted() -> None:
    doc = _load("rsm014-aggregated-measure-data-ga344-2025-01-15.json")
    point = doc["NotifyAggregatedMeasureData_MarketDocument"]["Series"][0]["Period"]["Point"][3]
    del point["quantity"]
    point["quality"] = {"value": "A02"}
    parsed = parse_document(dumps(doc))
    points = parsed.series[0].points  # type: ignore[union-attr]
    assert (points[3].quantity, points[3].quality) == (None, "A02")
    assert points[0].quality is None


def test_price_point_count_must_match_the_month() -> None:
    doc = _load("rsm034-notify-price-list-prices.json")
    record = doc["NotifyPriceList_MarketDocument"]["MktActivityRecord"][1]
    period = record["ChargeGroup"]["ChargeType"][0]["Series_Period"][0]
    period["timeInterval"]["end"]["value"] = "2025-03-31T22:00Z"
    assert "1 points, but 2025-01-31T23:00Z..2025-03-31T22:00Z at P1M needs 2" in _reason(doc)


def test_cpr_never_appears_in_errors() -> None:
    doc = _load("rsm001-request-change-of-supplier.json")
    record = doc["RequestChangeOfSupplier_MarketDocument"]["MktActivityRecord"][0]
    record["marketEvaluationPoint.customer_MarketParticipant.mRID"] = {
        "codingScheme": "ARR",
        "value": "010190123",  # 9 digits: wrong
    }
    reason = _reason(doc)
    assert "needs 10 digits" in reason
    assert "010190123" not in reason
    record["marketEvaluationPoint.customer_MarketParticipant.mRID"]["value"] = "01019012345678901"
    reason = _reason(doc)  # too long for the schema
    assert reason.startswith("schema:")
    assert "01019012345678901" not in reason


def test_validate_is_a_no_op_without_schema_and_rejects_non_documents() -> None:
    validate(_load("rsm022-accounting-point-characteristics.json"))
    with pytest.raises(CimError):
        validate({"A": {}, "B": {}})


def test_schema_folder_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WATTLINE_CIM_SCHEMAS", str(schema_dir()))
    validate(_load(RSM012))
    monkeypatch.setenv("WATTLINE_CIM_SCHEMAS", str(tmp_path))
    with pytest.raises(FileNotFoundError):
        validate(_load(RSM012))


def test_build_document_rejects_non_models() -> None:
    with pytest.raises(TypeError):
        build_document(object())  # type: ignore[arg-type]


def test_packaged_schemas_are_the_reference_copies() -> None:
    from wattline_cim.schema import PACKAGED

    reference = FIXTURES / "schemas"
    names = sorted(p.name for p in reference.glob("*.schema.json"))
    # Besides the reference copies: the answers' schemas, taken from opengeh-edi (README).
    answers = {
        "Acknowledgement-assembly-model.schema.json",
        "Reject-request-aggregated-measure-data-assembly-model.schema.json",
        "Reject-request-validated-measure-data-assembly-model.schema.json",
        "Reject-request-wholesale-settlement-assembly-model.schema.json",
        "Reminder-of-missing-measure-data-assembly-model.schema.json",
        "Notify-wholesale-services-assembly-model.schema.json",
    }
    assert sorted(set(names) | answers) == sorted(p.name for p in PACKAGED.glob("*.schema.json"))
    for name in names:
        assert (PACKAGED / name).read_bytes() == (reference / name).read_bytes(), name


@pytest.mark.parametrize(
    ("name", "root"),
    [
        (
            "rsm015-request-validated-measure-data.json",
            "RequestValidatedMeasureData_MarketDocument",
        ),
        (
            "rsm016-request-aggregated-measure-data.json",
            "RequestAggregatedMeasureData_MarketDocument",
        ),
        ("rsm017-request-wholesale-settlement.json", "RequestWholesaleSettlement_MarketDocument"),
    ],
)
def test_a_request_ending_before_it_starts_is_refused(name: str, root: str) -> None:
    doc = _load(name)
    series = doc[root]["Series"][0]
    series["end_DateAndOrTime.dateTime"] = series["start_DateAndOrTime.dateTime"]
    assert "is not after start" in _reason(doc)
    start = series["start_DateAndOrTime.dateTime"]
    series["end_DateAndOrTime.dateTime"] = "2024-12-31T23:00:00Z"
    reason = _reason(doc)
    assert reason.startswith(f"/{root}/Series/0:")
    assert f"end 2024-12-31T23:00:00Z is not after start {start}" in reason
    # and the model itself refuses to be built so
    parsed = parse_document(dumps(_load(name)))
    with pytest.raises(ValueError, match="is not after start"):
        type(parsed).model_validate({**parsed.model_dump(), "end": parsed.start})  # type: ignore[union-attr]


def test_a_code_list_holds_exactly_energinets_codes_and_the_empty_local_one() -> None:
    # The quick check merges a oneOf of code lists into one enum: the same values pass.
    doc, period = _rsm012()
    period["Point"][0]["quality"] = {"value": ""}  # the schema's "local" list: valid JSON-wise
    validate(doc)
    period["Point"][0]["quality"] = {"value": "A99"}
    with pytest.raises(CimError, match=r"^schema: .*Point/0/quality/value"):
        validate(doc)
    period["Point"][0]["quality"] = {"value": 4}
    with pytest.raises(CimError, match=r"^schema:"):
        validate(doc)
