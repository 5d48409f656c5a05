"""Every example document in shared/reference/fixtures/cim parses to the values it holds."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from wattline_cim import (
    AccountingPointCharacteristics,
    AggregationDocument,
    AggregationRequest,
    ChangeOfSupplierAnswer,
    ChangeOfSupplierRequest,
    ChargeLinksDocument,
    GenericNotification,
    MeasureDataDocument,
    MeasureDataRequest,
    PriceListDocument,
    WholesaleSettlementRequest,
    build_document,
    dumps,
    parse_document,
    validate,
)

# The reference examples live beside the repository, in shared/ (as in CI).
FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"
GSRN = "571313199900000015"
SUPPLIER = "5799994000015"
BRP = "5799994000022"
GRID_COMPANY = "5799994000039"
DATAHUB = "5790001330552"


def _raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _parse(name: str) -> object:
    return parse_document(_raw(name))


def test_every_fixture_parses_and_rebuilds_to_the_same_wire_json() -> None:
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 15
    for path in files:
        raw = path.read_bytes()
        model = parse_document(raw)
        built = build_document(model)
        validate(built)
        original = json.loads(raw, parse_float=Decimal)
        assert json.loads(dumps(built), parse_float=Decimal) == original, path.name
        assert parse_document(dumps(built)) == model, path.name


def test_rsm012_hourly_2025_01_15() -> None:
    doc = _parse("rsm012-validated-measure-data-pt1h-2025-01-15.json")
    assert isinstance(doc, MeasureDataDocument)
    assert doc.message_id == "0f0c637f-ebd5-5d4d-af60-76ce0fe1ca6d"
    assert (doc.sender_gln, doc.sender_role) == (DATAHUB, "DGL")
    assert (doc.receiver_gln, doc.receiver_role) == (SUPPLIER, "DDQ")
    assert doc.created == datetime(2025, 1, 16, 5, 12, 7, tzinfo=UTC)
    assert doc.process_type == "E23"
    (series,) = doc.series
    assert series.gsrn == GSRN
    assert series.transaction_id == "24a4239a-e967-5ae4-985a-000ee0148910"
    assert series.original_transaction_id == "MDR-TX-20250116-000417"
    assert (series.metering_point_type, series.product, series.unit) == (
        "E17",
        "8716867000030",
        "KWH",
    )
    assert series.resolution == "PT1H"
    assert series.start == datetime(2025, 1, 14, 23, 0, tzinfo=UTC)
    assert series.end == datetime(2025, 1, 15, 23, 0, tzinfo=UTC)
    assert series.registered_at == datetime(2025, 1, 16, 4, 55, 31, tzinfo=UTC)
    assert len(series.points) == 24
    assert series.points[0].quantity == Decimal("0.312")
    assert str(series.points[0].quantity) == "0.312"
    p18 = series.points[17]
    assert (p18.position, p18.quantity, p18.quality) == (18, Decimal("1.184"), "A03")
    assert {p.quality for p in series.points if p.position != 18} == {"A04"}
    assert series.points[23].quantity == Decimal("0.398")


def test_rsm012_quarter_hour_2025_10_15() -> None:
    doc = _parse("rsm012-validated-measure-data-pt15m-2025-10-15.json")
    assert isinstance(doc, MeasureDataDocument)
    (series,) = doc.series
    assert series.resolution == "PT15M"
    assert series.start == datetime(2025, 10, 14, 22, 0, tzinfo=UTC)
    assert len(series.points) == 96
    assert series.points[0].quantity == Decimal("0.072")
    assert series.points[95].quantity == Decimal("0.097")
    assert series.original_transaction_id is None


def test_rsm012_dst_day_2025_03_30_has_23_points() -> None:
    doc = _parse("rsm012-validated-measure-data-pt1h-dst-2025-03-30.json")
    assert isinstance(doc, MeasureDataDocument)
    (series,) = doc.series
    assert series.start == datetime(2025, 3, 29, 23, 0, tzinfo=UTC)
    assert series.end == datetime(2025, 3, 30, 22, 0, tzinfo=UTC)
    assert [p.position for p in series.points] == list(range(1, 24))


def test_rsm014_aggregation_without_quality_on_measured_points() -> None:
    doc = _parse("rsm014-aggregated-measure-data-ga344-2025-01-15.json")
    assert isinstance(doc, AggregationDocument)
    assert (doc.process_type, doc.sender_role) == ("D04", "DGL")
    (series,) = doc.series
    assert series.grid_area == "344"
    assert (series.metering_point_type, series.settlement_method) == ("E17", "D01")
    assert series.balance_responsible_gln == BRP
    assert series.energy_supplier_gln == SUPPLIER
    assert series.version == "1"
    assert len(series.points) == 24
    assert series.points[0].quantity == Decimal("2725.164")
    assert series.points[0].quality is None
    assert (series.points[17].quality, series.points[17].quantity) == ("A03", Decimal("10582.148"))
    assert [p.position for p in series.points if p.quality is not None] == [18]


def test_rsm001_request_with_cvr_customer() -> None:
    doc = _parse("rsm001-request-change-of-supplier.json")
    assert isinstance(doc, ChangeOfSupplierRequest)
    assert doc.process_type == "E03"
    assert doc.transaction_id == "2038bd3d-84b7-56d9-ad13-77083e4c5ec9"
    assert doc.gsrn == GSRN
    assert doc.effective_start == datetime(2025, 1, 31, 23, 0, tzinfo=UTC)
    assert (doc.energy_supplier_gln, doc.balance_responsible_gln) == (SUPPLIER, BRP)
    assert (doc.customer_scheme, doc.customer_id) == ("VAT", "30000005")
    assert doc.customer_name == "Eksempel Bageri ApS"
    assert (doc.receiver_gln, doc.receiver_role) == (DATAHUB, "DDZ")


def test_rsm001_confirm() -> None:
    doc = _parse("rsm001-confirm-request-change-of-supplier.json")
    assert isinstance(doc, ChangeOfSupplierAnswer)
    assert doc.accepted is True
    (tx,) = doc.transactions
    assert tx.original_transaction_id == "2038bd3d-84b7-56d9-ad13-77083e4c5ec9"
    assert tx.process_reference == "3b50d8c9-9a18-516f-9b3a-c82fc24ba555"
    assert tx.gsrn == GSRN
    assert tx.reasons == ()


def test_rsm001_reject_with_reason_e17() -> None:
    doc = _parse("rsm001-reject-request-change-of-supplier.json")
    assert isinstance(doc, ChangeOfSupplierAnswer)
    assert doc.accepted is False
    (tx,) = doc.transactions
    assert tx.original_transaction_id == "2038bd3d-84b7-56d9-ad13-77083e4c5ec9"
    assert tx.process_reference is None
    assert tx.reasons == (("E17", "Requested switch date not within time limits"),)


def test_rsm004_end_of_supply() -> None:
    doc = _parse("rsm004-generic-notification-end-of-supply.json")
    assert isinstance(doc, GenericNotification)
    assert doc.gsrn == GSRN
    assert doc.validity_start == datetime(2025, 3, 31, 22, 0, tzinfo=UTC)
    assert doc.process_type == "E03"
    assert doc.process_reference == "82426319-af43-58a0-9225-10feaf99a396"


def test_rsm022_accounting_point_characteristics() -> None:
    doc = _parse("rsm022-accounting-point-characteristics.json")
    assert isinstance(doc, AccountingPointCharacteristics)
    assert doc.gsrn == GSRN
    assert doc.validity_start == datetime(2025, 1, 31, 23, 0, tzinfo=UTC)
    assert doc.original_transaction_id == "2038bd3d-84b7-56d9-ad13-77083e4c5ec9"
    assert doc.grid_operator_gln == GRID_COMPANY
    assert (doc.metering_point_type, doc.settlement_method, doc.metering_method) == (
        "E17",
        "D01",
        "D01",
    )
    assert (doc.connection_state, doc.read_cycle, doc.net_settlement_group) == ("E22", "PT1H", "0")
    assert doc.grid_area == "344"
    assert doc.capacity_kw == Decimal("17")
    assert doc.rated_current_a == Decimal("25")
    assert (doc.connection_type, doc.disconnection_method, doc.meter_id) == (
        "D01",
        "D02",
        "90123456",
    )
    assert doc.estimated_annual_volume_kwh == Decimal("4200")
    assert doc.product == "8716867000030"
    assert doc.energy_supplier_gln == SUPPLIER
    assert doc.supply_start == datetime(2025, 1, 31, 23, 0, tzinfo=UTC)
    address = doc.address
    assert address is not None
    assert (address.street_name, address.building_number, address.floor, address.suite) == (
        "Eksempelvej",
        "12",
        "1",
        "tv",
    )
    assert (address.postal_code, address.city, address.country) == ("8000", "Aarhus C", "DK")
    assert (address.street_code, address.municipality_code) == ("0412", "0751")
    assert address.dar_id == "0d7c7e01-44ca-599d-a6ce-9e8771e794b9"
    assert address.actual_address is True


def test_rsm034_charge_information() -> None:
    doc = _parse("rsm034-notify-price-list-charge-information.json")
    assert isinstance(doc, PriceListDocument)
    assert doc.process_type == "D18"
    tariff, subscription = doc.charges
    assert (tariff.owner_gln, tariff.charge_type, tariff.charge_id) == (
        GRID_COMPANY,
        "D03",
        "NT-C-TIME",
    )
    assert tariff.name == "Nettarif C time"
    assert tariff.resolution == "PT1H"
    assert tariff.effective_date == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)
    assert (tariff.vat_payer, tariff.transparent_invoicing, tariff.tax_indicator) == (
        "D02",
        True,
        False,
    )
    assert tariff.price_series == ()
    assert (subscription.charge_type, subscription.charge_id) == ("D01", "NT-ABON")
    assert subscription.resolution == "P1M"
    assert subscription.transparent_invoicing is False


def test_rsm034_prices() -> None:
    doc = _parse("rsm034-notify-price-list-prices.json")
    assert isinstance(doc, PriceListDocument)
    assert doc.process_type == "D08"
    tariff, subscription = doc.charges
    (day,) = tariff.price_series
    assert (day.resolution, len(day.points)) == ("PT1H", 24)
    assert day.start == datetime(2025, 1, 14, 23, 0, tzinfo=UTC)
    assert day.points[0].price == Decimal("0.1302")
    assert day.points[6].price == Decimal("0.3906")  # position 7: high from 06:00 local
    assert (day.points[17].position, day.points[17].price) == (18, Decimal("1.0154"))  # peak
    assert day.points[21].price == Decimal("0.3906")
    (month,) = subscription.price_series
    assert month.resolution == "P1M"
    assert (month.start, month.end) == (
        datetime(2025, 1, 31, 23, 0, tzinfo=UTC),
        datetime(2025, 2, 28, 23, 0, tzinfo=UTC),
    )
    assert [(p.position, p.price) for p in month.points] == [(1, Decimal("21.25"))]


def test_rsm031_charge_links() -> None:
    doc = _parse("rsm031-notify-billing-master-data-charge-links.json")
    assert isinstance(doc, ChargeLinksDocument)
    assert doc.process_type == "D17"
    tariff, subscription = doc.links
    assert tariff.gsrn == GSRN
    assert (tariff.owner_gln, tariff.charge_type, tariff.charge_id) == (
        GRID_COMPANY,
        "D03",
        "NT-C-TIME",
    )
    assert (subscription.charge_type, subscription.charge_id) == ("D01", "NT-ABON")
    assert tariff.factor == 1
    assert tariff.start == datetime(2025, 1, 31, 23, 0, tzinfo=UTC)
    assert tariff.end is None
    assert tariff.transaction_id == subscription.transaction_id


def test_rsm015_016_017_requests() -> None:
    rsm015 = _parse("rsm015-request-validated-measure-data.json")
    assert isinstance(rsm015, MeasureDataRequest)
    assert rsm015.gsrn == GSRN
    assert (rsm015.receiver_role, rsm015.process_type) == ("DGL", "E23")
    assert rsm015.start == datetime(2025, 1, 14, 23, 0, tzinfo=UTC)
    assert rsm015.end == datetime(2025, 1, 15, 23, 0, tzinfo=UTC)

    rsm016 = _parse("rsm016-request-aggregated-measure-data.json")
    assert isinstance(rsm016, AggregationRequest)
    assert (rsm016.grid_area, rsm016.process_type) == ("344", "D04")
    assert (rsm016.energy_supplier_gln, rsm016.balance_responsible_gln) == (SUPPLIER, BRP)
    assert (rsm016.metering_point_type, rsm016.settlement_method) == ("E17", "D01")

    rsm017 = _parse("rsm017-request-wholesale-settlement.json")
    assert isinstance(rsm017, WholesaleSettlementRequest)
    assert rsm017.process_type == "D05"
    assert (rsm017.start, rsm017.end) == (
        datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2025, 1, 31, 23, 0, tzinfo=UTC),
    )
    assert rsm017.charge_owner_gln == GRID_COMPANY
    assert [(c.charge_type, c.charge_id) for c in rsm017.charges] == [("D03", "NT-C-TIME")]
