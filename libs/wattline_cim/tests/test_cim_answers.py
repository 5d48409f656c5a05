"""The answers DataHub sends to a supplier's requests parse to the values they hold."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from wattline_cim import (
    Acknowledgement,
    CimError,
    DataRequestRejection,
    MissingDataReminders,
    WholesaleServicesDocument,
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


def test_datahubs_wholesale_settlement_per_charge() -> None:
    doc = _parse("rsm019-notify-wholesale-services.json")
    assert isinstance(doc, WholesaleServicesDocument)
    tariff, subscription = doc.series
    assert (tariff.grid_area, tariff.charge_owner_gln, tariff.charge_type, tariff.charge_id) == (
        "344",
        "5790000610099",
        "D03",
        "40000",
    )
    assert (tariff.resolution, tariff.original_transaction_id, tariff.version) == (
        "PT1H",
        "wholesale-request-1",
        "3",
    )
    assert [(p.quantity, p.price, p.amount) for p in tariff.points] == [
        (Decimal("1.25"), Decimal("0.4016"), Decimal("0.502")),
        (Decimal("2.0"), Decimal("0.4016"), Decimal("0.8032")),
        (Decimal("0.8"), Decimal("0.4016"), Decimal("0.32128")),
    ]
    # DataHub's amounts are its quantities times its prices, to the last decimal.
    assert all(p.quantity * p.price == p.amount for p in tariff.points)  # type: ignore[operator]
    assert sum(p.amount for p in tariff.points) == Decimal("1.62648")  # type: ignore[misc]
    assert (subscription.charge_type, subscription.resolution, subscription.quantity_unit) == (
        "D01",
        "P1M",
        "H87",
    )
    assert subscription.points[0].amount == Decimal("23.2")
