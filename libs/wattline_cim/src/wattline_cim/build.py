"""Typed document models -> CIM JSON dicts, and exact (Decimal-preserving) serialisation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from wattline_cim._time import fmt_minutes, fmt_seconds
from wattline_cim.models import (
    AccountingPointCharacteristics,
    Address,
    AggregationDocument,
    AggregationRequest,
    CancelAnswer,
    CancelRequest,
    ChangeOfSupplierAnswer,
    ChangeOfSupplierRequest,
    Charge,
    ChargeLinksDocument,
    CimDocument,
    GenericNotification,
    MeasureDataDocument,
    MeasureDataRequest,
    MeasurePoint,
    PriceListDocument,
    PriceSeries,
    WholesaleServicesDocument,
    WholesaleSettlementRequest,
    _Header,
)

Json = dict[str, Any]


def _value(value: object) -> Json:
    return {"value": value}


def _scheme(scheme: str, value: str) -> Json:
    return {"codingScheme": scheme, "value": value}


def _put(target: Json, key: str, value: Any, wrap: Callable[[Any], Any] | None = None) -> None:
    """Set `key` only when `value` is present (CIM omits absent optional fields)."""
    if value is not None:
        target[key] = wrap(value) if wrap else value


def _gs1(value: str) -> Json:
    return _scheme("A10", value)


def _area(value: str) -> Json:
    return _scheme("NDK", value)


def _header(doc: _Header, doc_type: str, reason: str | None = None) -> Json:
    out: Json = {
        "mRID": doc.message_id,
        "businessSector.type": _value("23"),
        "createdDateTime": fmt_seconds(doc.created),
        "process.processType": _value(doc.process_type),
    }
    _put(out, "reason.code", reason, _value)
    out["receiver_MarketParticipant.mRID"] = _gs1(doc.receiver_gln)
    out["receiver_MarketParticipant.marketRole.type"] = _value(doc.receiver_role)
    out["sender_MarketParticipant.mRID"] = _gs1(doc.sender_gln)
    out["sender_MarketParticipant.marketRole.type"] = _value(doc.sender_role)
    out["type"] = _value(doc_type)
    return out


def _period(resolution: str, start: datetime, end: datetime, points: list[Json]) -> Json:
    return {
        "resolution": resolution,
        "timeInterval": {
            "start": _value(fmt_minutes(start)),
            "end": _value(fmt_minutes(end)),
        },
        "Point": points,
    }


def _measure_points(points: Iterable[MeasurePoint]) -> list[Json]:
    out = []
    for p in points:
        point: Json = {"position": _value(p.position)}
        _put(point, "quantity", p.quantity)
        _put(point, "quality", p.quality, _value)
        out.append(point)
    return out


def _measure_data(doc: MeasureDataDocument) -> Json:
    body = _header(doc, "E66")
    series = []
    for s in doc.series:
        item: Json = {
            "mRID": s.transaction_id,
            "marketEvaluationPoint.mRID": _gs1(s.gsrn),
            "marketEvaluationPoint.type": _value(s.metering_point_type),
        }
        _put(item, "originalTransactionIDReference_Series.mRID", s.original_transaction_id)
        _put(item, "product", s.product)
        item["quantity_Measure_Unit.name"] = _value(s.unit)
        item["registration_DateAndOrTime.dateTime"] = fmt_seconds(s.registered_at)
        item["Period"] = _period(s.resolution, s.start, s.end, _measure_points(s.points))
        series.append(item)
    body["Series"] = series
    return {"NotifyValidatedMeasureData_MarketDocument": body}


def _aggregation(doc: AggregationDocument) -> Json:
    body = _header(doc, "E31")
    series = []
    for s in doc.series:
        item: Json = {"mRID": s.transaction_id}
        _put(item, "version", s.version)
        _put(item, "originalTransactionIDReference_Series.mRID", s.original_transaction_id)
        _put(item, "settlement_Series.version", s.settlement_version, _value)
        item["meteringGridArea_Domain.mRID"] = _area(s.grid_area)
        _put(
            item, "balanceResponsibleParty_MarketParticipant.mRID", s.balance_responsible_gln, _gs1
        )
        _put(item, "energySupplier_MarketParticipant.mRID", s.energy_supplier_gln, _gs1)
        _put(item, "marketEvaluationPoint.settlementMethod", s.settlement_method, _value)
        item["marketEvaluationPoint.type"] = _value(s.metering_point_type)
        _put(item, "product", s.product)
        item["quantity_Measure_Unit.name"] = _value(s.unit)
        _put(item, "registration_DateAndOrTime.dateTime", s.registered_at, fmt_seconds)
        item["Period"] = _period(s.resolution, s.start, s.end, _measure_points(s.points))
        series.append(item)
    body["Series"] = series
    return {"NotifyAggregatedMeasureData_MarketDocument": body}


def _change_of_supplier_request(doc: ChangeOfSupplierRequest) -> Json:
    rec: Json = {
        "mRID": doc.transaction_id,
        "marketEvaluationPoint.mRID": _gs1(doc.gsrn),
        "marketEvaluationPoint.energySupplier_MarketParticipant.mRID": _gs1(
            doc.energy_supplier_gln
        ),
    }
    _put(
        rec,
        "marketEvaluationPoint.balanceResponsibleParty_MarketParticipant.mRID",
        doc.balance_responsible_gln,
        _gs1,
    )
    if doc.customer_id is not None and doc.customer_scheme is not None:
        rec["marketEvaluationPoint.customer_MarketParticipant.mRID"] = _scheme(
            doc.customer_scheme, doc.customer_id
        )
    _put(rec, "marketEvaluationPoint.customer_MarketParticipant.name", doc.customer_name)
    rec["start_DateAndOrTime.dateTime"] = fmt_seconds(doc.effective_start)
    body = _header(doc, "392")
    body["MktActivityRecord"] = [rec]
    return {"RequestChangeOfSupplier_MarketDocument": body}


def _cancel_request(doc: CancelRequest) -> Json:
    body = _header(doc, "E67")
    body["MktActivityRecord"] = [
        {
            "mRID": doc.transaction_id,
            "marketEvaluationPoint.mRID": _gs1(doc.gsrn),
            "originalTransactionIDReference_MktActivityRecord.mRID": doc.original_transaction_id,
        }
    ]
    return {"RequestCancelChangeOfSupplier_MarketDocument": body}


def _answer(doc: ChangeOfSupplierAnswer) -> Json:
    cancel = isinstance(doc, CancelAnswer)
    body = _header(doc, "E68" if cancel else "414", "A01" if doc.accepted else "A02")
    records = []
    for tx in doc.transactions:
        rec: Json = {"mRID": tx.transaction_id}
        _put(rec, "businessProcessReference_MktActivityRecord.mRID", tx.process_reference)
        _put(rec, "marketEvaluationPoint.mRID", tx.gsrn, _gs1)
        rec["originalTransactionIDReference_MktActivityRecord.mRID"] = tx.original_transaction_id
        if tx.reasons:
            reasons = []
            for code, text in tx.reasons:
                reason: Json = {"code": _value(code)}
                _put(reason, "text", text)
                reasons.append(reason)
            rec["Reason"] = reasons
        records.append(rec)
    body["MktActivityRecord"] = records
    root = "Confirm" if doc.accepted else "Reject"
    name = "CancelChangeOfSupplier" if cancel else "ChangeOfSupplier"
    return {f"{root}Request{name}_MarketDocument": body}


def _generic_notification(doc: GenericNotification) -> Json:
    rec: Json = {"mRID": doc.transaction_id}
    _put(rec, "businessProcessReference_MktActivityRecord.mRID", doc.process_reference)
    _put(rec, "originalTransactionIDReference_MktActivityRecord.mRID", doc.original_transaction_id)
    rec["validityStart_DateAndOrTime.dateTime"] = fmt_seconds(doc.validity_start)
    rec["marketEvaluationPoint.mRID"] = _gs1(doc.gsrn)
    body = _header(doc, "E44")
    body["MktActivityRecord"] = [rec]
    return {"GenericNotification_MarketDocument": body}


def _unit(unit: str) -> Callable[[Decimal], Json]:
    return lambda value: {"value": str(value), "unit": unit}


def _address(mep: Json, address: Address) -> None:
    street: Json = {}
    _put(street, "code", address.street_code)
    _put(street, "name", address.street_name)
    _put(street, "number", address.building_number)
    _put(street, "floorIdentification", address.floor)
    _put(street, "suiteNumber", address.suite)
    town: Json = {}
    _put(town, "code", address.municipality_code)
    _put(town, "name", address.city)
    _put(town, "country", address.country, _value)
    main: Json = {}
    if street:
        main["streetDetail"] = street
    if town:
        main["townDetail"] = town
    _put(main, "postalCode", address.postal_code)
    _put(mep, "usagePointLocation.geoInfoReference", address.dar_id, _value)
    if main:
        mep["usagePointLocation.mainAddress"] = main
    _put(mep, "usagePointLocation.actualAddressIndicator", address.actual_address)


def _accounting_point(doc: AccountingPointCharacteristics) -> Json:
    mep: Json = {"mRID": _gs1(doc.gsrn)}
    _put(mep, "meteringPointResponsible_MarketParticipant.mRID", doc.grid_operator_gln, _gs1)
    mep["type"] = _value(doc.metering_point_type)
    _put(mep, "settlementMethod", doc.settlement_method, _value)
    _put(mep, "meteringMethod", doc.metering_method, _value)
    _put(mep, "connectionState", doc.connection_state, _value)
    _put(mep, "readCycle", doc.read_cycle)
    _put(mep, "netSettlementGroup", doc.net_settlement_group)
    mep["meteringGridArea_Domain.mRID"] = _area(doc.grid_area)
    _put(mep, "physicalConnectionCapacity", doc.capacity_kw, _unit("KWT"))
    _put(mep, "mPConnectionType", doc.connection_type, _value)
    _put(mep, "disconnectionMethod", doc.disconnection_method, _value)
    _put(mep, "ratedCurrent", doc.rated_current_a, _unit("AMP"))
    _put(mep, "meter.mRID", doc.meter_id, _value)
    if doc.product is not None or doc.estimated_annual_volume_kwh is not None:
        volume: Json = {}
        _put(volume, "product", doc.product, _value)
        _put(volume, "estimatedAnnualVolume_Quantity.quantity", doc.estimated_annual_volume_kwh)
        volume["quantity_Measure_Unit.name"] = _value("KWH")
        mep["Series"] = [volume]
    _put(mep, "energySupplier_MarketParticipant.mRID", doc.energy_supplier_gln, _gs1)
    _put(mep, "supplyStart_DateAndOrTime.dateTime", doc.supply_start, fmt_seconds)
    if doc.address is not None:
        _address(mep, doc.address)
    rec: Json = {"mRID": doc.transaction_id}
    _put(rec, "businessProcessReference_MktActivityRecord.mRID", doc.process_reference)
    _put(rec, "originalTransactionIDReference_MktActivityRecord.mRID", doc.original_transaction_id)
    rec["validityStart_DateAndOrTime.dateTime"] = fmt_seconds(doc.validity_start)
    rec["MarketEvaluationPoint"] = mep
    body = _header(doc, "E07")
    body["MktActivityRecord"] = [rec]
    return {"AccountingPointCharacteristics_MarketDocument": body}


def _by_transaction(items: Iterable[Any]) -> Iterator[tuple[str, list[Any]]]:
    """Consecutive items with the same transaction_id share one MktActivityRecord."""
    for transaction_id, group in groupby(items, key=lambda item: item.transaction_id):
        yield transaction_id, list(group)


def _price_series(series: PriceSeries) -> Json:
    points = [
        {"position": _value(p.position), "price.amount": _value(p.price)} for p in series.points
    ]
    return _period(series.resolution, series.start, series.end, points)


def _charge(charge: Charge) -> Json:
    out: Json = {
        "chargeTypeOwner_MarketParticipant.mRID": _gs1(charge.owner_gln),
        "type": _value(charge.charge_type),
        "mRID": charge.charge_id,
    }
    _put(out, "name", charge.name)
    _put(out, "description", charge.description)
    _put(out, "priceTimeFrame_Period.resolution", charge.resolution)
    _put(out, "effectiveDate", charge.effective_date, fmt_seconds)
    _put(out, "terminationDate", charge.termination_date, fmt_seconds)
    _put(out, "VATPayer", charge.vat_payer, _value)
    _put(out, "transparentInvoicing", charge.transparent_invoicing)
    _put(out, "taxIndicator", charge.tax_indicator)
    if charge.price_series:
        out["Series_Period"] = [_price_series(s) for s in charge.price_series]
    return out


def _price_list(doc: PriceListDocument) -> Json:
    body = _header(doc, "D12")
    body["MktActivityRecord"] = [
        {"mRID": tx, "ChargeGroup": {"ChargeType": [_charge(c) for c in charges]}}
        for tx, charges in _by_transaction(doc.charges)
    ]
    return {"NotifyPriceList_MarketDocument": body}


def _charge_links(doc: ChargeLinksDocument) -> Json:
    records = []
    for _, links in groupby(doc.links, key=lambda link: (link.transaction_id, link.gsrn)):
        group = list(links)
        types = []
        for link in group:
            item: Json = {
                "chargeTypeOwner_MarketParticipant.mRID": _gs1(link.owner_gln),
                "type": _value(link.charge_type),
                "mRID": link.charge_id,
                "factor": str(link.factor),
                "effectiveDate": fmt_seconds(link.start),
            }
            _put(item, "terminationDate", link.end, fmt_seconds)
            types.append(item)
        records.append(
            {
                "mRID": group[0].transaction_id,
                "marketEvaluationPoint.mRID": _gs1(group[0].gsrn),
                "ChargeGroup": {"ChargeType": types},
            }
        )
    body = _header(doc, "D07")
    body["MktActivityRecord"] = records
    return {"NotifyBillingMasterData_MarketDocument": body}


def _measure_data_request(doc: MeasureDataRequest) -> Json:
    series: Json = {
        "mRID": doc.transaction_id,
        "marketEvaluationPoint.mRID": _gs1(doc.gsrn),
        "start_DateAndOrTime.dateTime": fmt_seconds(doc.start),
    }
    _put(series, "end_DateAndOrTime.dateTime", doc.end, fmt_seconds)
    body = _header(doc, "E73")
    body["Series"] = [series]
    return {"RequestValidatedMeasureData_MarketDocument": body}


def _aggregation_request(doc: AggregationRequest) -> Json:
    series: Json = {
        "mRID": doc.transaction_id,
        "start_DateAndOrTime.dateTime": fmt_seconds(doc.start),
    }
    _put(series, "end_DateAndOrTime.dateTime", doc.end, fmt_seconds)
    _put(series, "meteringGridArea_Domain.mRID", doc.grid_area, _area)
    _put(series, "energySupplier_MarketParticipant.mRID", doc.energy_supplier_gln, _gs1)
    _put(
        series, "balanceResponsibleParty_MarketParticipant.mRID", doc.balance_responsible_gln, _gs1
    )
    _put(series, "marketEvaluationPoint.type", doc.metering_point_type, _value)
    _put(series, "marketEvaluationPoint.settlementMethod", doc.settlement_method, _value)
    _put(series, "settlement_Series.version", doc.settlement_version, _value)
    body = _header(doc, "E74")
    body["Series"] = [series]
    return {"RequestAggregatedMeasureData_MarketDocument": body}


def _wholesale_request(doc: WholesaleSettlementRequest) -> Json:
    series: Json = {
        "mRID": doc.transaction_id,
        "start_DateAndOrTime.dateTime": fmt_seconds(doc.start),
    }
    _put(series, "end_DateAndOrTime.dateTime", doc.end, fmt_seconds)
    _put(series, "meteringGridArea_Domain.mRID", doc.grid_area, _area)
    _put(series, "energySupplier_MarketParticipant.mRID", doc.energy_supplier_gln, _gs1)
    _put(series, "chargeTypeOwner_MarketParticipant.mRID", doc.charge_owner_gln, _gs1)
    _put(series, "aggregationSeries_Period.resolution", doc.resolution)
    _put(series, "settlement_Series.version", doc.settlement_version, _value)
    if doc.charges:
        charges = []
        for ref in doc.charges:
            item: Json = {}
            _put(item, "mRID", ref.charge_id)
            _put(item, "type", ref.charge_type, _value)
            charges.append(item)
        series["ChargeType"] = charges
    body = _header(doc, "D21")
    body["Series"] = [series]
    return {"RequestWholesaleSettlement_MarketDocument": body}


def _wholesale_services(doc: WholesaleServicesDocument) -> Json:
    body = _header(doc, "E31")
    series = []
    for s in doc.series:
        item: Json = {"mRID": s.transaction_id}
        _put(item, "version", s.version)
        _put(item, "settlement_Series.version", s.settlement_version, _value)
        _put(item, "originalTransactionIDReference_Series.mRID", s.original_transaction_id)
        _put(item, "marketEvaluationPoint.type", s.metering_point_type, _value)
        _put(item, "marketEvaluationPoint.settlementMethod", s.settlement_method, _value)
        _put(item, "chargeType.mRID", s.charge_id)
        _put(item, "chargeType.type", s.charge_type, _value)
        _put(item, "chargeType.chargeTypeOwner_MarketParticipant.mRID", s.charge_owner_gln, _gs1)
        item["meteringGridArea_Domain.mRID"] = _area(s.grid_area)
        item["energySupplier_MarketParticipant.mRID"] = _gs1(s.energy_supplier_gln)
        item["quantity_Measure_Unit.name"] = _value(s.quantity_unit)
        _put(item, "price_Measure_Unit.name", s.price_unit, _value)
        _put(item, "currency_Unit.name", s.currency, _value)
        points = []
        for p in s.points:
            point: Json = {"position": _value(p.position)}
            _put(point, "energy_Quantity.quantity", p.quantity)
            _put(point, "price.amount", p.price, _value)
            _put(point, "energySum_Quantity.quantity", p.amount)
            _put(point, "quality", p.quality, _value)
            points.append(point)
        item["Period"] = _period(s.resolution, s.start, s.end, points)
        series.append(item)
    if series:
        body["Series"] = series
    return {"NotifyWholesaleServices_MarketDocument": body}


_BUILDERS: dict[type[Any], Callable[[Any], Json]] = {
    MeasureDataDocument: _measure_data,
    AggregationDocument: _aggregation,
    ChangeOfSupplierRequest: _change_of_supplier_request,
    ChangeOfSupplierAnswer: _answer,
    CancelRequest: _cancel_request,
    CancelAnswer: _answer,
    GenericNotification: _generic_notification,
    AccountingPointCharacteristics: _accounting_point,
    PriceListDocument: _price_list,
    ChargeLinksDocument: _charge_links,
    MeasureDataRequest: _measure_data_request,
    AggregationRequest: _aggregation_request,
    WholesaleSettlementRequest: _wholesale_request,
    WholesaleServicesDocument: _wholesale_services,
}


def build_document(doc: CimDocument) -> dict[str, Any]:
    """Build the CIM JSON dict (dotted keys, value wrappers, CIM time formats) for a model.

    Decimals stay Decimal in the dict; serialise with `dumps`. The result round-trips:
    `parse_document(dumps(build_document(m))) == m`.
    """
    builder = _BUILDERS.get(type(doc))
    if builder is None:
        raise TypeError(f"not a CIM document model: {type(doc).__name__}")
    return builder(doc)


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, got {type(key).__name__}")
            out.append(("," if i else "") + json.dumps(key, ensure_ascii=False) + ":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as a JSON number")
        out.append(str(value))
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in CIM documents; use Decimal")
    elif value is None or isinstance(value, str | int | bool):
        out.append(json.dumps(value, ensure_ascii=False))
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def dumps(doc: dict[str, Any]) -> bytes:
    """Serialise a CIM JSON dict to compact UTF-8 bytes; Decimals become JSON numbers
    exactly as `str(decimal)` writes them (no float rounding). Floats are refused."""
    out: list[str] = []
    _encode(doc, out)
    return "".join(out).encode("utf-8")
