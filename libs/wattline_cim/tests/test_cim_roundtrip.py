"""Every model round-trips through build_document/dumps/parse_document; built documents of
types with an official schema validate against it."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from wattline_cim import (
    AccountingPointCharacteristics,
    Address,
    AggregationDocument,
    AggregationRequest,
    AggregationSeries,
    AnswerTransaction,
    ChangeOfSupplierAnswer,
    ChangeOfSupplierRequest,
    Charge,
    ChargeLink,
    ChargeLinksDocument,
    ChargeRef,
    CimDocument,
    GenericNotification,
    MeasureDataDocument,
    MeasureDataRequest,
    MeasurePoint,
    MeasureSeries,
    PriceListDocument,
    PricePoint,
    PriceSeries,
    WholesalePoint,
    WholesaleSeries,
    WholesaleServicesDocument,
    WholesaleSettlementRequest,
    build_document,
    dumps,
    parse_document,
    validate,
)

GSRN = "571313199900000015"
SUPPLIER = "5799994000015"
BRP = "5799994000022"
GRID_COMPANY = "5799994000039"
CREATED = datetime(2025, 2, 3, 11, 4, 19, tzinfo=UTC)
DAY_START = datetime(2025, 1, 14, 23, 0, tzinfo=UTC)
DAY_END = datetime(2025, 1, 15, 23, 0, tzinfo=UTC)
D = Decimal
OUR = {"sender_gln": SUPPLIER, "message_id": "msg-1", "created": CREATED}
THEIRS = {"receiver_gln": SUPPLIER, "message_id": "msg-2", "created": CREATED}


def _hourly_points(count: int) -> tuple[MeasurePoint, ...]:
    return tuple(
        MeasurePoint(position=i, quantity=Decimal(i) / 1000, quality="A04")
        for i in range(1, count + 1)
    )


def _roundtrip(model: CimDocument) -> dict[str, object]:
    built = build_document(model)
    assert parse_document(dumps(built)) == model
    return built


def _measure_document() -> MeasureDataDocument:
    points = (
        *_hourly_points(22),
        MeasurePoint(position=23, quality="A02"),  # not available: no quantity
        MeasurePoint(position=24, quantity=Decimal("0.100"), quality="A03"),
    )
    return MeasureDataDocument(
        **THEIRS,
        series=(
            MeasureSeries(
                transaction_id="tx-1",
                original_transaction_id="mdr-1",
                gsrn=GSRN,
                metering_point_type="E17",
                registered_at=datetime(2025, 1, 16, 4, 55, 31, tzinfo=UTC),
                resolution="PT1H",
                start=DAY_START,
                end=DAY_END,
                points=points,
            ),
        ),
    )


def _aggregation_document() -> AggregationDocument:
    return AggregationDocument(
        **THEIRS,
        series=(
            AggregationSeries(
                transaction_id="tx-2",
                version="2",
                original_transaction_id="req-1",
                settlement_version="D01",
                grid_area="344",
                metering_point_type="E17",
                settlement_method="D01",
                balance_responsible_gln=BRP,
                energy_supplier_gln=SUPPLIER,
                registered_at=CREATED,
                resolution="PT1H",
                start=DAY_START,
                end=DAY_END,
                points=tuple(MeasurePoint(position=i, quantity=Decimal(100)) for i in range(1, 25)),
            ),
            AggregationSeries(
                transaction_id="tx-3",
                grid_area="344",
                metering_point_type="E18",
                product=None,
                resolution="P1D",
                start=DAY_START,
                end=DAY_END + timedelta(days=1),
                points=(
                    MeasurePoint(position=1, quantity=Decimal("5.5")),
                    MeasurePoint(position=2, quality="A02"),
                ),
            ),
        ),
    )


def _request(process_type: str = "E03") -> ChangeOfSupplierRequest:
    return ChangeOfSupplierRequest(
        **OUR,
        process_type=process_type,
        transaction_id="tx-req",
        gsrn=GSRN,
        effective_start=datetime(2025, 1, 31, 23, 0, tzinfo=UTC),
        energy_supplier_gln=SUPPLIER,
        balance_responsible_gln=BRP,
        customer_id="0101901234",
        customer_scheme="ARR",
        customer_name="Jens Hansen",
    )


def _confirm() -> ChangeOfSupplierAnswer:
    return ChangeOfSupplierAnswer(
        **THEIRS,
        accepted=True,
        transactions=(
            AnswerTransaction(
                transaction_id="a-1",
                original_transaction_id="tx-req",
                gsrn=GSRN,
                process_reference="proc-1",
            ),
        ),
    )


def _reject() -> ChangeOfSupplierAnswer:
    return ChangeOfSupplierAnswer(
        **THEIRS,
        process_type="E65",
        accepted=False,
        transactions=(
            AnswerTransaction(
                transaction_id="r-1",
                original_transaction_id="tx-req",
                gsrn=GSRN,
                reasons=(("E17", "Requested switch date not within time limits"), ("D17", None)),
            ),
            AnswerTransaction(
                transaction_id="r-2", original_transaction_id="tx-req-2", reasons=(("E10", None),)
            ),
        ),
    )


def _accounting_point(full: bool) -> AccountingPointCharacteristics:
    extra: dict[str, object] = {}
    if full:
        extra = {
            "process_reference": "proc-1",
            "original_transaction_id": "tx-req",
            "grid_operator_gln": GRID_COMPANY,
            "settlement_method": "D01",
            "metering_method": "D01",
            "connection_state": "E22",
            "read_cycle": "PT15M",
            "net_settlement_group": "6",
            "capacity_kw": Decimal("17.5"),
            "connection_type": "D01",
            "disconnection_method": "D02",
            "rated_current_a": Decimal("25"),
            "meter_id": "M-1",
            "product": "8716867000030",
            "estimated_annual_volume_kwh": Decimal("4200.5"),
            "energy_supplier_gln": SUPPLIER,
            "supply_start": datetime(2025, 1, 31, 23, 0, tzinfo=UTC),
            "address": Address(street_name="Testvej", postal_code="2100", city="Koebenhavn Oe"),
        }
    return AccountingPointCharacteristics(
        **THEIRS,
        transaction_id="ap-1",
        validity_start=datetime(2025, 1, 31, 23, 0, tzinfo=UTC),
        gsrn=GSRN,
        metering_point_type="E17",
        grid_area="344",
        **extra,
    )


def _prices() -> PriceListDocument:
    day = PriceSeries(
        resolution="PT1H",
        start=DAY_START,
        end=DAY_END,
        points=tuple(PricePoint(position=i, price=Decimal("0.130200")) for i in range(1, 25)),
    )
    month = PriceSeries(
        resolution="P1M",
        start=datetime(2025, 2, 28, 23, 0, tzinfo=UTC),
        end=datetime(2025, 4, 30, 22, 0, tzinfo=UTC),  # March + April 2025 (DST in between)
        points=(PricePoint(position=1, price=Decimal("21.25")), PricePoint(position=2, price=0)),
    )
    return PriceListDocument(
        **THEIRS,
        process_type="D08",
        charges=(
            Charge(
                transaction_id="c-1",
                owner_gln=GRID_COMPANY,
                charge_type="D03",
                charge_id="NT-C-TIME",
                effective_date=DAY_START,
                price_series=(day,),
            ),
            Charge(
                transaction_id="c-1",
                owner_gln=GRID_COMPANY,
                charge_type="D01",
                charge_id="NT-ABON",
                price_series=(month,),
            ),
            Charge(
                transaction_id="c-2",
                owner_gln=GRID_COMPANY,
                charge_type="D02",
                charge_id="FEE-1",
                name="Gebyr",
                description="One-off fee",
                resolution="P1D",
                effective_date=DAY_START,
                termination_date=DAY_END,
                vat_payer="D01",
                transparent_invoicing=False,
                tax_indicator=True,
            ),
        ),
    )


def _links() -> ChargeLinksDocument:
    base = {"owner_gln": GRID_COMPANY, "start": datetime(2025, 1, 31, 23, 0, tzinfo=UTC)}
    return ChargeLinksDocument(
        **THEIRS,
        links=(
            ChargeLink(transaction_id="l-1", gsrn=GSRN, charge_type="D03", charge_id="T", **base),
            ChargeLink(
                transaction_id="l-1",
                gsrn=GSRN,
                charge_type="D01",
                charge_id="S",
                factor=2,
                end=datetime(2025, 6, 30, 22, 0, tzinfo=UTC),
                **base,
            ),
        ),
    )


def _generic() -> GenericNotification:
    return GenericNotification(
        **THEIRS,
        transaction_id="g-1",
        gsrn=GSRN,
        validity_start=datetime(2025, 3, 31, 22, 0, tzinfo=UTC),
        process_reference="proc-9",
        original_transaction_id="tx-req",
    )


def _measure_request() -> MeasureDataRequest:
    return MeasureDataRequest(**OUR, transaction_id="q-1", gsrn=GSRN, start=DAY_START, end=DAY_END)


def _aggregation_request() -> AggregationRequest:
    return AggregationRequest(
        **OUR,
        transaction_id="q-2",
        start=DAY_START,
        end=DAY_END,
        grid_area="344",
        energy_supplier_gln=SUPPLIER,
        balance_responsible_gln=BRP,
        metering_point_type="E17",
        settlement_method="D01",
        settlement_version="D01",
    )


def _wholesale_request() -> WholesaleSettlementRequest:
    return WholesaleSettlementRequest(
        **OUR,
        transaction_id="q-3",
        start=datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
        end=datetime(2025, 1, 31, 23, 0, tzinfo=UTC),
        grid_area="344",
        energy_supplier_gln=SUPPLIER,
        charge_owner_gln=GRID_COMPANY,
        resolution="PT1H",
        settlement_version="D02",
        charges=(ChargeRef(charge_type="D03", charge_id="NT-C-TIME"), ChargeRef()),
    )


def _wholesale_services() -> WholesaleServicesDocument:
    """RSM-019: a tariff per hour (kWh, price, amount) and a subscription per day."""
    return WholesaleServicesDocument(
        **THEIRS,
        series=(
            WholesaleSeries(
                transaction_id="w-1",
                version="1",
                original_transaction_id="q-3",
                grid_area="344",
                energy_supplier_gln=SUPPLIER,
                metering_point_type="E17",
                settlement_method="D01",
                charge_type="D03",
                charge_id="NT-C-TIME",
                charge_owner_gln=GRID_COMPANY,
                quantity_unit="KWH",
                price_unit="KWH",
                currency="DKK",
                resolution="PT1H",
                start=DAY_START,
                end=DAY_START + timedelta(hours=2),
                points=(
                    WholesalePoint(
                        position=1, quantity=D("1.250"), price=D("0.1302"), amount=D("0.16275")
                    ),
                    WholesalePoint(
                        position=2, quantity=D("0.000"), price=D("0.1302"), amount=D("0.000000")
                    ),
                ),
            ),
            WholesaleSeries(
                transaction_id="w-2",
                settlement_version="D01",
                grid_area="344",
                energy_supplier_gln=SUPPLIER,
                metering_point_type="E17",
                charge_type="D01",
                charge_id="NT-ABON",
                charge_owner_gln=GRID_COMPANY,
                quantity_unit="H87",
                currency="DKK",
                resolution="P1D",
                start=DAY_START,
                end=DAY_END,
                points=(
                    WholesalePoint(
                        position=1, quantity=D("2"), price=D("0.685484"), amount=D("1.370968")
                    ),
                ),
            ),
        ),
    )


ALL_MODELS = [
    _measure_document,
    _aggregation_document,
    _request,
    lambda: _request("E65"),
    _confirm,
    _reject,
    _generic,
    lambda: _accounting_point(full=True),
    lambda: _accounting_point(full=False),
    _prices,
    _links,
    _measure_request,
    _aggregation_request,
    _wholesale_request,
    _wholesale_services,
]


@pytest.mark.parametrize("make", ALL_MODELS)
def test_every_model_round_trips(make: Callable[[], CimDocument]) -> None:
    model = make()
    _roundtrip(model)


@pytest.mark.parametrize(
    ("make", "root"),
    [
        (_request, "RequestChangeOfSupplier_MarketDocument"),
        (_measure_request, "RequestValidatedMeasureData_MarketDocument"),
        (_aggregation_request, "RequestAggregatedMeasureData_MarketDocument"),
        (_wholesale_request, "RequestWholesaleSettlement_MarketDocument"),
        (_wholesale_services, "NotifyWholesaleServices_MarketDocument"),
        (_measure_document, "NotifyValidatedMeasureData_MarketDocument"),
        (_aggregation_document, "NotifyAggregatedMeasureData_MarketDocument"),
        (_confirm, "ConfirmRequestChangeOfSupplier_MarketDocument"),
        (_reject, "RejectRequestChangeOfSupplier_MarketDocument"),
    ],
)
def test_built_documents_validate_against_official_schema(
    make: Callable[[], CimDocument], root: str
) -> None:
    built = build_document(make())
    assert list(built) == [root]
    validate(built)  # the in-memory dict, Decimals and all
    validate(json.loads(dumps(built), parse_float=Decimal))  # and the wire form


def test_wire_format_details() -> None:
    built = build_document(_measure_document())
    body = built["NotifyValidatedMeasureData_MarketDocument"]
    assert body["createdDateTime"] == "2025-02-03T11:04:19Z"
    assert body["businessSector.type"] == {"value": "23"}
    assert body["sender_MarketParticipant.mRID"] == {
        "codingScheme": "A10",
        "value": "5790001330552",
    }
    period = body["Series"][0]["Period"]
    assert period["timeInterval"] == {
        "start": {"value": "2025-01-14T23:00Z"},
        "end": {"value": "2025-01-15T23:00Z"},
    }
    assert period["Point"][22] == {"position": {"value": 23}, "quality": {"value": "A02"}}
    wire = dumps(built).decode()
    # Decimals are written as JSON numbers exactly as given (no float rounding, zeros kept).
    assert '"quantity":0.100,' in wire
    assert '"quantity":0.001,' in wire
    assert '"position":{"value":24}' in wire


def test_dumps_keeps_decimals_exact_and_refuses_floats() -> None:
    doc = {"a": Decimal("0.1234567890123456789"), "b": [Decimal("1E+3"), 2, True, None, "æ"]}
    assert dumps(doc) == '{"a":0.1234567890123456789,"b":[1E+3,2,true,null,"æ"]}'.encode()
    assert json.loads(dumps(doc), parse_float=Decimal)["a"] == Decimal("0.1234567890123456789")
    with pytest.raises(TypeError):
        dumps({"a": 0.1})
    with pytest.raises(ValueError):
        dumps({"a": Decimal("NaN")})


def test_customer_cpr_round_trips_but_stays_out_of_repr() -> None:
    request = _request()
    built = build_document(request)
    record = built["RequestChangeOfSupplier_MarketDocument"]["MktActivityRecord"][0]
    assert record["marketEvaluationPoint.customer_MarketParticipant.mRID"] == {
        "codingScheme": "ARR",
        "value": "0101901234",
    }
    assert record["start_DateAndOrTime.dateTime"] == "2025-01-31T23:00:00Z"
    assert "0101901234" not in repr(request)


def test_defaults_point_at_datahub() -> None:
    request = _measure_request()
    assert (request.receiver_gln, request.receiver_role) == ("5790001330552", "DGL")
    assert (request.sender_role, request.process_type) == ("DDQ", "E23")


def test_created_is_normalised_to_utc_seconds() -> None:
    copenhagen = datetime(2025, 2, 3, 13, 4, 19, 987654, tzinfo=ZoneInfo("Europe/Copenhagen"))
    request = _measure_request().model_copy(update={"created": copenhagen})
    rebuilt = MeasureDataRequest(**request.model_dump())
    assert rebuilt.created == datetime(2025, 2, 3, 12, 4, 19, tzinfo=UTC)
    assert rebuilt.created.utcoffset() == timedelta(0)
    _roundtrip(rebuilt)


def test_rsm002_cancellation_and_its_answers_round_trip() -> None:
    from wattline_cim import CancelAnswer, CancelRequest

    request = CancelRequest(
        message_id="c-1",
        sender_gln="5799994000015",
        created=datetime(2025, 1, 20, 8, tzinfo=UTC),
        process_type="E65",
        transaction_id="t-9",
        gsrn="571313199900000015",
        original_transaction_id="t-1",
    )
    body = build_document(request)
    assert set(body) == {"RequestCancelChangeOfSupplier_MarketDocument"}
    assert body["RequestCancelChangeOfSupplier_MarketDocument"]["type"] == {"value": "E67"}
    assert parse_document(dumps(body)) == request
    for accepted, reasons in ((True, ()), (False, (("D20", "process not open"),))):
        answer = CancelAnswer(
            message_id="c-2",
            receiver_gln="5799994000015",
            created=datetime(2025, 1, 20, tzinfo=UTC),
            accepted=accepted,
            transactions=(
                AnswerTransaction(
                    transaction_id="x",
                    original_transaction_id="t-9",
                    gsrn="571313199900000015",
                    reasons=reasons,
                ),
            ),
        )
        built = build_document(answer)
        root = f"{'Confirm' if accepted else 'Reject'}RequestCancelChangeOfSupplier_MarketDocument"
        assert set(built) == {root} and built[root]["type"] == {"value": "E68"}
        parsed = parse_document(dumps(built))
        assert parsed == answer and type(parsed) is CancelAnswer
