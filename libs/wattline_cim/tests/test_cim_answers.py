"""The answers DataHub sends to a supplier's requests parse to the values they hold."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from wattline_cim import (
    Acknowledgement,
    CimError,
    DataRequestRejection,
    MissingDataReminders,
    parse_document,
)

ANSWERS = Path(__file__).parent / "answers"


def _parse(name: str) -> object:
    return parse_document((ANSWERS / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "kind", "original", "codes"),
    [
        (
            "rsm015-reject-request-validated-measure-data.json",
            "RSM-015",
            "51f40729-8c56-56ab-8cca-6c2658a5ee78",
            ["E16"],
        ),
        (
            "rsm016-reject-request-aggregated-measure-data.json",
            "RSM-016",
            "aggregation-request-1",
            ["E0H", "D66"],
        ),
        (
            "rsm017-reject-request-wholesale-settlement.json",
            "RSM-017",
            "wholesale-request-1",
            ["E86"],
        ),
    ],
)
def test_a_rejected_data_request(name: str, kind: str, original: str, codes: list[str]) -> None:
    doc = _parse(name)
    assert isinstance(doc, DataRequestRejection)
    assert (doc.request_kind, doc.sender_gln, doc.receiver_gln) == (
        kind,
        "5790001330552",
        "5799994000015",
    )
    [tx] = doc.transactions
    assert tx.original_transaction_id == original
    assert [code for code, _ in tx.reasons] == codes
    assert tx.gsrn == ("571313199900000015" if kind == "RSM-015" else None)


def test_the_rsm015_rejection_reason_text_is_kept() -> None:
    doc = _parse("rsm015-reject-request-validated-measure-data.json")
    assert isinstance(doc, DataRequestRejection)
    assert doc.transactions[0].reasons == (
        ("E16", "Målepunktet findes ikke eller er ikke tilknyttet dig"),
    )


def test_a_rejection_without_a_reason_is_refused() -> None:
    doc = json.loads((ANSWERS / "rsm016-reject-request-aggregated-measure-data.json").read_bytes())
    doc["RejectRequestAggregatedMeasureData_MarketDocument"]["Series"][0]["Reason"] = []
    with pytest.raises(CimError, match="Series/0/Reason: \\[\\] should be non-empty"):
        parse_document(json.dumps(doc))


def test_an_acknowledgement_names_the_document_and_what_it_refused() -> None:
    doc = _parse("rsm009-acknowledgement.json")
    assert isinstance(doc, Acknowledgement)
    assert (doc.received_message_id, doc.received_document_type) == ("our-document-1", "E66")
    assert doc.reasons == (("A02", "Dokumentet er delvist afvist"),)
    [tx] = doc.rejected_transactions
    assert (tx.transaction_id, tx.reasons) == (
        "our-series-2",
        (("E10", "Målepunktet findes ikke"),),
    )


def test_a_reminder_of_missing_data_names_each_metering_point_and_day() -> None:
    doc = _parse("rsm018-reminder-of-missing-measure-data.json")
    assert isinstance(doc, MissingDataReminders)
    assert [(r.transaction_id, r.gsrn, r.missing_since) for r in doc.reminders] == [
        ("reminder-1", "571313199900000015", datetime(2025, 2, 1, 23, tzinfo=UTC)),
        ("reminder-2", "571313199900000022", datetime(2025, 2, 1, 23, tzinfo=UTC)),
    ]
