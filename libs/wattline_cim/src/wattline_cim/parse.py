"""CIM JSON (bytes/str) -> typed document models."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from wattline_cim._time import YEARS
from wattline_cim.errors import CimError
from wattline_cim.models import (
    DATA_REQUESTS,
    AccountingPointCharacteristics,
    Acknowledgement,
    Address,
    AggregationDocument,
    AggregationRequest,
    AggregationSeries,
    AnswerTransaction,
    CancelAnswer,
    CancelRequest,
    ChangeOfSupplierAnswer,
    ChangeOfSupplierRequest,
    Charge,
    ChargeLink,
    ChargeLinksDocument,
    ChargeRef,
    CimDocument,
    DataRequestRejection,
    GenericNotification,
    MeasureDataDocument,
    MeasureDataRequest,
    MeasurePoint,
    MeasureSeries,
    MissingDataReminder,
    MissingDataReminders,
    PriceListDocument,
    PricePoint,
    PriceSeries,
    RefusedSeries,
    RejectedTransaction,
    WholesalePoint,
    WholesaleSeries,
    WholesaleServicesDocument,
    WholesaleSettlementRequest,
)
from wattline_cim.schema import validate

_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")

_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_MINUTES = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z", re.ASCII)
_DECIMAL_TEXT = re.compile(r"-?\d+(\.\d+)?", re.ASCII)


def _make(cls: type[_M], path: str, **fields: Any) -> _M:
    """Construct a model, turning pydantic's errors into a one-line CimError at `path`."""
    try:
        return cls(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        where = f"{path}: {loc}" if loc else path
        raise CimError(f"{where}: {first['msg']}".replace("\n", " ")) from None


class _Node:
    """A JSON object plus its path, with typed accessors that raise CimError."""

    __slots__ = ("data", "path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise CimError(f"{path}: expected a JSON object")
        self.data: dict[str, Any] = data
        self.path = path

    def fail(self, key: str, reason: str) -> NoReturn:
        raise CimError(f"{self.path}/{key}: {reason}")

    def need(self, key: str, value: _T | None) -> _T:
        """`value`, or CimError "missing" for `key` if it is None."""
        if value is None:
            self.fail(key, "missing")
        return value

    # optional accessors: absent (or null) -> None
    def opt_node(self, key: str) -> _Node | None:
        value = self.data.get(key)
        return None if value is None else _Node(value, f"{self.path}/{key}")

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(key, "expected a string")
        return value

    def opt_bool(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            self.fail(key, "expected true or false")
        return value

    def opt_code(self, key: str) -> str | None:
        node = self.opt_node(key)
        return None if node is None else node.text("value")

    def opt_scheme_id(self, key: str) -> tuple[str, str] | None:
        node = self.opt_node(key)
        return None if node is None else (node.text("codingScheme"), node.text("value"))

    def opt_id(self, key: str, scheme: str) -> str | None:
        pair = self.opt_scheme_id(key)
        if pair is None:
            return None
        if pair[0] != scheme:
            self.fail(key, f"codingScheme must be {scheme}, got {pair[0]!r}")
        return pair[1]

    def opt_number(self, key: str, *, text_ok: bool = False) -> Decimal | None:
        """A bare JSON number (parsed as Decimal/int) as Decimal; with `text_ok` also a
        decimal string (RSM-022 writes capacity and rated current as strings)."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
            return Decimal(value)
        if text_ok and isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
            return Decimal(value)
        self.fail(key, "expected a number")

    def opt_instant(self, key: str) -> datetime | None:
        """`YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm)`: a date-time with seconds, as UTC."""
        value = self.opt_text(key)
        if value is None:
            return None
        match = _SECONDS.fullmatch(value)
        if not match:
            self.fail(key, f"{value!r} is not a date-time with seconds (YYYY-MM-DDThh:mm:ssZ)")
        plain = value[: match.start(1)] + value[match.end(1) :] if match.group(1) else value
        try:
            parsed = datetime.fromisoformat(plain)
        except ValueError:
            self.fail(key, f"{value!r} is not a valid date-time")
        if parsed.year not in YEARS:
            self.fail(key, f"{value!r} is not in the years {YEARS.start}-{YEARS.stop - 1}")
        return parsed.astimezone(UTC)

    # required accessors
    def node(self, key: str) -> _Node:
        return self.need(key, self.opt_node(key))

    def text(self, key: str) -> str:
        return self.need(key, self.opt_text(key))

    def code(self, key: str) -> str:
        return self.need(key, self.opt_code(key))

    def id(self, key: str, scheme: str) -> str:
        return self.need(key, self.opt_id(key, scheme))

    def instant(self, key: str) -> datetime:
        return self.need(key, self.opt_instant(key))

    def minutes(self, key: str) -> datetime:
        """`{"value": "YYYY-MM-DDThh:mmZ"}`: a timeInterval bound, without seconds."""
        node = self.node(key)
        value = node.text("value")
        if not _MINUTES.fullmatch(value):
            node.fail("value", f"{value!r} is not YYYY-MM-DDThh:mmZ (no seconds)")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            node.fail("value", f"{value!r} is not a valid date-time")
        if parsed.year not in YEARS:
            node.fail("value", f"{value!r} is not in the years {YEARS.start}-{YEARS.stop - 1}")
        return parsed

    def number(self, key: str, *, text_ok: bool = False) -> Decimal:
        return self.need(key, self.opt_number(key, text_ok=text_ok))

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, "expected an integer")
        return value

    def nodes(self, key: str, *, required: bool = True) -> list[_Node]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "missing")
            return []
        if not isinstance(value, list) or (required and not value):
            self.fail(key, "expected a non-empty array")
        return [_Node(item, f"{self.path}/{key}/{i}") for i, item in enumerate(value)]


# --- shared pieces ------------------------------------------------------------------------


def _header(root: _Node, doc_type: str) -> dict[str, Any]:
    if (found := root.code("type")) != doc_type:
        root.fail("type", f"expected {doc_type}, got {found!r}")
    sector = root.opt_code("businessSector.type")
    if sector is not None and sector != "23":
        root.fail("businessSector.type", f"expected 23 (electricity), got {sector!r}")
    return {
        "message_id": root.text("mRID"),
        "sender_gln": root.id("sender_MarketParticipant.mRID", "A10"),
        "sender_role": root.code("sender_MarketParticipant.marketRole.type"),
        "receiver_gln": root.id("receiver_MarketParticipant.mRID", "A10"),
        "receiver_role": root.code("receiver_MarketParticipant.marketRole.type"),
        "created": root.instant("createdDateTime"),
        "process_type": root.code("process.processType"),
    }


def _period(period: _Node) -> dict[str, Any]:
    interval = period.node("timeInterval")
    return {
        "resolution": period.text("resolution"),
        "start": interval.minutes("start"),
        "end": interval.minutes("end"),
    }


def _measure_points(period: _Node) -> tuple[MeasurePoint, ...]:
    return tuple(
        _make(
            MeasurePoint,
            p.path,
            position=p.node("position").integer("value"),
            quantity=p.opt_number("quantity"),
            quality=p.opt_code("quality"),
        )
        for p in period.nodes("Point", required=False)
    )


# --- one parser per root ------------------------------------------------------------------


def _measure_series(s: _Node) -> MeasureSeries:
    period = s.node("Period")
    return _make(
        MeasureSeries,
        s.path,
        transaction_id=s.text("mRID"),
        original_transaction_id=s.opt_text("originalTransactionIDReference_Series.mRID"),
        gsrn=s.id("marketEvaluationPoint.mRID", "A10"),
        metering_point_type=s.code("marketEvaluationPoint.type"),
        product=s.opt_text("product"),
        unit=s.code("quantity_Measure_Unit.name"),
        registered_at=s.instant("registration_DateAndOrTime.dateTime"),
        points=_measure_points(period),
        **_period(period),
    )


def _measure_data(root: _Node) -> MeasureDataDocument:
    # Each series is its own transaction: one that breaks a rule is refused on its own and
    # its neighbours are still taken (the header is the document's, so it refuses them all).
    header = _header(root, "E66")
    series: list[MeasureSeries] = []
    refused: list[RefusedSeries] = []
    for index, s in enumerate(root.nodes("Series", required=False)):
        try:
            series.append(_measure_series(s))
        except CimError as exc:
            mrid = s.data.get("mRID")
            refused.append(
                RefusedSeries(
                    index=index,
                    transaction_id=mrid if isinstance(mrid, str) else None,
                    reason=str(exc),
                )
            )
    return _make(
        MeasureDataDocument, root.path, **header, series=tuple(series), refused=tuple(refused)
    )


def _aggregation(root: _Node) -> AggregationDocument:
    series = []
    for s in root.nodes("Series"):
        period = s.node("Period")
        series.append(
            _make(
                AggregationSeries,
                s.path,
                transaction_id=s.text("mRID"),
                version=s.opt_text("version"),
                original_transaction_id=s.opt_text("originalTransactionIDReference_Series.mRID"),
                settlement_version=s.opt_code("settlement_Series.version"),
                grid_area=s.id("meteringGridArea_Domain.mRID", "NDK"),
                metering_point_type=s.code("marketEvaluationPoint.type"),
                settlement_method=s.opt_code("marketEvaluationPoint.settlementMethod"),
                balance_responsible_gln=s.opt_id(
                    "balanceResponsibleParty_MarketParticipant.mRID", "A10"
                ),
                energy_supplier_gln=s.opt_id("energySupplier_MarketParticipant.mRID", "A10"),
                product=s.opt_text("product"),
                unit=s.code("quantity_Measure_Unit.name"),
                registered_at=s.opt_instant("registration_DateAndOrTime.dateTime"),
                points=_measure_points(period),
                **_period(period),
            )
        )
    return _make(AggregationDocument, root.path, **_header(root, "E31"), series=tuple(series))


def _change_of_supplier_request(root: _Node, rec: _Node) -> ChangeOfSupplierRequest:
    customer = rec.opt_scheme_id("marketEvaluationPoint.customer_MarketParticipant.mRID")
    return _make(
        ChangeOfSupplierRequest,
        rec.path,
        **_header(root, "392"),
        transaction_id=rec.text("mRID"),
        gsrn=rec.id("marketEvaluationPoint.mRID", "A10"),
        effective_start=rec.instant("start_DateAndOrTime.dateTime"),
        energy_supplier_gln=rec.id(
            "marketEvaluationPoint.energySupplier_MarketParticipant.mRID", "A10"
        ),
        balance_responsible_gln=rec.opt_id(
            "marketEvaluationPoint.balanceResponsibleParty_MarketParticipant.mRID", "A10"
        ),
        customer_scheme=None if customer is None else customer[0],
        customer_id=None if customer is None else customer[1],
        customer_name=rec.opt_text("marketEvaluationPoint.customer_MarketParticipant.name"),
    )


def _cancel_request(root: _Node, rec: _Node) -> CancelRequest:
    return _make(
        CancelRequest,
        rec.path,
        **_header(root, "E67"),
        transaction_id=rec.text("mRID"),
        gsrn=rec.id("marketEvaluationPoint.mRID", "A10"),
        original_transaction_id=rec.text("originalTransactionIDReference_MktActivityRecord.mRID"),
    )


def _answer(
    accepted: bool,
    model: type[ChangeOfSupplierAnswer] = ChangeOfSupplierAnswer,
    doc_type: str = "414",
) -> Callable[[_Node], ChangeOfSupplierAnswer]:
    def parse(root: _Node) -> ChangeOfSupplierAnswer:
        expected = "A01" if accepted else "A02"
        reason = root.opt_code("reason.code")
        if reason is not None and reason != expected:
            root.fail("reason.code", f"expected {expected}, got {reason!r}")
        transactions = tuple(
            _make(
                AnswerTransaction,
                rec.path,
                transaction_id=rec.text("mRID"),
                original_transaction_id=rec.text(
                    "originalTransactionIDReference_MktActivityRecord.mRID"
                ),
                gsrn=rec.opt_id("marketEvaluationPoint.mRID", "A10"),
                process_reference=rec.opt_text("businessProcessReference_MktActivityRecord.mRID"),
                reasons=tuple(
                    (r.code("code"), r.opt_text("text"))
                    for r in rec.nodes("Reason", required=False)
                ),
            )
            for rec in root.nodes("MktActivityRecord")
        )
        return _make(
            model,
            root.path,
            **_header(root, doc_type),
            accepted=accepted,
            transactions=transactions,
        )

    return parse


def _generic_notification(root: _Node, rec: _Node) -> GenericNotification:
    return _make(
        GenericNotification,
        rec.path,
        **_header(root, "E44"),
        transaction_id=rec.text("mRID"),
        gsrn=rec.id("marketEvaluationPoint.mRID", "A10"),
        validity_start=rec.instant("validityStart_DateAndOrTime.dateTime"),
        process_reference=rec.opt_text("businessProcessReference_MktActivityRecord.mRID"),
        original_transaction_id=rec.opt_text(
            "originalTransactionIDReference_MktActivityRecord.mRID"
        ),
    )


def _unit_value(node: _Node, key: str, unit: str) -> Decimal | None:
    inner = node.opt_node(key)
    if inner is None:
        return None
    if (found := inner.text("unit")) != unit:
        inner.fail("unit", f"expected {unit}, got {found!r}")
    return inner.number("value", text_ok=True)


def _address(mep: _Node) -> Address | None:
    main = mep.opt_node("usagePointLocation.mainAddress")
    dar_id = mep.opt_code("usagePointLocation.geoInfoReference")
    actual = mep.opt_bool("usagePointLocation.actualAddressIndicator")
    if main is None and dar_id is None and actual is None:
        return None
    empty = _Node({}, "")
    street = (main and main.opt_node("streetDetail")) or empty
    town = (main and main.opt_node("townDetail")) or empty
    return _make(
        Address,
        mep.path,
        street_code=street.opt_text("code"),
        street_name=street.opt_text("name"),
        building_number=street.opt_text("number"),
        floor=street.opt_text("floorIdentification"),
        suite=street.opt_text("suiteNumber"),
        municipality_code=town.opt_text("code"),
        city=town.opt_text("name"),
        country=town.opt_code("country"),
        postal_code=main.opt_text("postalCode") if main else None,
        dar_id=dar_id,
        actual_address=actual,
    )


def _accounting_point(root: _Node, rec: _Node) -> AccountingPointCharacteristics:
    mep = rec.node("MarketEvaluationPoint")
    volume = mep.nodes("Series", required=False)
    first = volume[0] if volume else None
    if first is not None and (unit := first.opt_code("quantity_Measure_Unit.name")) not in (
        None,
        "KWH",
    ):
        first.fail("quantity_Measure_Unit.name", f"expected KWH, got {unit!r}")
    return _make(
        AccountingPointCharacteristics,
        rec.path,
        **_header(root, "E07"),
        transaction_id=rec.text("mRID"),
        process_reference=rec.opt_text("businessProcessReference_MktActivityRecord.mRID"),
        original_transaction_id=rec.opt_text(
            "originalTransactionIDReference_MktActivityRecord.mRID"
        ),
        validity_start=rec.instant("validityStart_DateAndOrTime.dateTime"),
        gsrn=mep.id("mRID", "A10"),
        grid_operator_gln=mep.opt_id("meteringPointResponsible_MarketParticipant.mRID", "A10"),
        metering_point_type=mep.code("type"),
        settlement_method=mep.opt_code("settlementMethod"),
        metering_method=mep.opt_code("meteringMethod"),
        connection_state=mep.opt_code("connectionState"),
        read_cycle=mep.opt_text("readCycle"),
        net_settlement_group=mep.opt_text("netSettlementGroup"),
        grid_area=mep.id("meteringGridArea_Domain.mRID", "NDK"),
        capacity_kw=_unit_value(mep, "physicalConnectionCapacity", "KWT"),
        connection_type=mep.opt_code("mPConnectionType"),
        disconnection_method=mep.opt_code("disconnectionMethod"),
        rated_current_a=_unit_value(mep, "ratedCurrent", "AMP"),
        meter_id=mep.opt_code("meter.mRID"),
        product=first.opt_code("product") if first else None,
        estimated_annual_volume_kwh=(
            first.opt_number("estimatedAnnualVolume_Quantity.quantity") if first else None
        ),
        energy_supplier_gln=mep.opt_id("energySupplier_MarketParticipant.mRID", "A10"),
        supply_start=mep.opt_instant("supplyStart_DateAndOrTime.dateTime"),
        address=_address(mep),
    )


def _charge_types(rec: _Node) -> list[_Node]:
    return rec.node("ChargeGroup").nodes("ChargeType")


def _price_series(period: _Node) -> PriceSeries:
    points = tuple(
        _make(
            PricePoint,
            p.path,
            position=p.node("position").integer("value"),
            price=p.node("price.amount").number("value"),
        )
        for p in period.nodes("Point")
    )
    return _make(PriceSeries, period.path, points=points, **_period(period))


def _price_list(root: _Node) -> PriceListDocument:
    charges = [
        _make(
            Charge,
            ct.path,
            transaction_id=rec.text("mRID"),
            owner_gln=ct.id("chargeTypeOwner_MarketParticipant.mRID", "A10"),
            charge_type=ct.code("type"),
            charge_id=ct.text("mRID"),
            effective_date=ct.opt_instant("effectiveDate"),
            termination_date=ct.opt_instant("terminationDate"),
            name=ct.opt_text("name"),
            description=ct.opt_text("description"),
            resolution=ct.opt_text("priceTimeFrame_Period.resolution"),
            vat_payer=ct.opt_code("VATPayer"),
            transparent_invoicing=ct.opt_bool("transparentInvoicing"),
            tax_indicator=ct.opt_bool("taxIndicator"),
            price_series=tuple(_price_series(p) for p in ct.nodes("Series_Period", required=False)),
        )
        for rec in root.nodes("MktActivityRecord")
        for ct in _charge_types(rec)
    ]
    return _make(PriceListDocument, root.path, **_header(root, "D12"), charges=tuple(charges))


def _factor(ct: _Node) -> int:
    value = ct.data.get("factor", "1")
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    ct.fail("factor", f"expected a whole number, got {value!r}")


def _charge_links(root: _Node) -> ChargeLinksDocument:
    links = [
        _make(
            ChargeLink,
            ct.path,
            transaction_id=rec.text("mRID"),
            gsrn=rec.id("marketEvaluationPoint.mRID", "A10"),
            owner_gln=ct.id("chargeTypeOwner_MarketParticipant.mRID", "A10"),
            charge_type=ct.code("type"),
            charge_id=ct.text("mRID"),
            factor=_factor(ct),
            start=ct.instant("effectiveDate"),
            end=ct.opt_instant("terminationDate"),
        )
        for rec in root.nodes("MktActivityRecord")
        for ct in _charge_types(rec)
    ]
    return _make(ChargeLinksDocument, root.path, **_header(root, "D07"), links=tuple(links))


def _measure_data_request(root: _Node, s: _Node) -> MeasureDataRequest:
    return _make(
        MeasureDataRequest,
        s.path,
        **_header(root, "E73"),
        transaction_id=s.text("mRID"),
        gsrn=s.id("marketEvaluationPoint.mRID", "A10"),
        start=s.instant("start_DateAndOrTime.dateTime"),
        end=s.opt_instant("end_DateAndOrTime.dateTime"),
    )


def _aggregation_request(root: _Node, s: _Node) -> AggregationRequest:
    return _make(
        AggregationRequest,
        s.path,
        **_header(root, "E74"),
        transaction_id=s.text("mRID"),
        start=s.instant("start_DateAndOrTime.dateTime"),
        end=s.opt_instant("end_DateAndOrTime.dateTime"),
        grid_area=s.opt_id("meteringGridArea_Domain.mRID", "NDK"),
        energy_supplier_gln=s.opt_id("energySupplier_MarketParticipant.mRID", "A10"),
        balance_responsible_gln=s.opt_id("balanceResponsibleParty_MarketParticipant.mRID", "A10"),
        metering_point_type=s.opt_code("marketEvaluationPoint.type"),
        settlement_method=s.opt_code("marketEvaluationPoint.settlementMethod"),
        settlement_version=s.opt_code("settlement_Series.version"),
    )


def _wholesale_request(root: _Node, s: _Node) -> WholesaleSettlementRequest:
    return _make(
        WholesaleSettlementRequest,
        s.path,
        **_header(root, "D21"),
        transaction_id=s.text("mRID"),
        start=s.instant("start_DateAndOrTime.dateTime"),
        end=s.opt_instant("end_DateAndOrTime.dateTime"),
        grid_area=s.opt_id("meteringGridArea_Domain.mRID", "NDK"),
        energy_supplier_gln=s.opt_id("energySupplier_MarketParticipant.mRID", "A10"),
        charge_owner_gln=s.opt_id("chargeTypeOwner_MarketParticipant.mRID", "A10"),
        resolution=s.opt_text("aggregationSeries_Period.resolution"),
        settlement_version=s.opt_code("settlement_Series.version"),
        charges=tuple(
            _make(ChargeRef, c.path, charge_type=c.opt_code("type"), charge_id=c.opt_text("mRID"))
            for c in s.nodes("ChargeType", required=False)
        ),
    )


def _reasons(node: _Node) -> tuple[tuple[str, str | None], ...]:
    return tuple((r.code("code"), r.opt_text("text")) for r in node.nodes("Reason", required=False))


def _rejected(s: _Node, *, gsrn: bool = False) -> RejectedTransaction:
    return _make(
        RejectedTransaction,
        s.path,
        transaction_id=s.text("mRID"),
        original_transaction_id=s.opt_text("originalTransactionIDReference_Series.mRID"),
        gsrn=s.opt_id("marketEvaluationPoint.mRID", "A10") if gsrn else None,
        reasons=_reasons(s),
    )


def _data_request_rejection(root: _Node) -> DataRequestRejection:
    if (reason := root.opt_code("reason.code")) not in (None, "A02"):
        root.fail("reason.code", f"expected A02 (rejected), got {reason!r}")
    kind = DATA_REQUESTS[root.path.removeprefix("/")]
    return _make(
        DataRequestRejection,
        root.path,
        **_header(root, "ERR"),
        request_kind=kind,
        transactions=tuple(_rejected(s, gsrn=kind == "RSM-015") for s in root.nodes("Series")),
    )


def _acknowledgement(root: _Node) -> Acknowledgement:
    sector = root.opt_code("businessSector.type")
    if sector is not None and sector != "23":
        root.fail("businessSector.type", f"expected 23 (electricity), got {sector!r}")
    rejected = [
        *root.nodes("Series", required=False),
        *root.nodes("Original_MktActivityRecord", required=False),
        *root.nodes("Rejected_TimeSeries", required=False),
    ]
    return _make(
        Acknowledgement,
        root.path,
        message_id=root.text("mRID"),
        sender_gln=root.id("sender_MarketParticipant.mRID", "A10"),
        sender_role=root.code("sender_MarketParticipant.marketRole.type"),
        receiver_gln=root.id("receiver_MarketParticipant.mRID", "A10"),
        receiver_role=root.opt_code("receiver_MarketParticipant.marketRole.type") or "DDQ",
        created=root.instant("createdDateTime"),
        received_message_id=root.opt_text("received_MarketDocument.mRID"),
        received_document_type=root.opt_code("received_MarketDocument.type"),
        received_process_type=root.opt_code("received_MarketDocument.process.processType"),
        reasons=_reasons(root),
        rejected_transactions=tuple(
            _make(
                RejectedTransaction,
                r.path,
                transaction_id=r.text("mRID"),
                original_transaction_id=r.text("mRID"),
                reasons=_reasons(r),
            )
            for r in rejected
        ),
    )


def _reminders(root: _Node) -> MissingDataReminders:
    return _make(
        MissingDataReminders,
        root.path,
        **_header(root, "D24"),
        reminders=tuple(
            _make(
                MissingDataReminder,
                s.path,
                transaction_id=s.text("mRID"),
                gsrn=mep.id("mRID", "A10"),
                missing_since=s.opt_instant("request_DateAndOrTime.dateTime"),
            )
            for s in root.nodes("Series")
            for mep in s.nodes("MarketEvaluationPoint")
        ),
    )


def _wholesale_point(p: _Node) -> WholesalePoint:
    price = p.opt_node("price.amount")
    return _make(
        WholesalePoint,
        p.path,
        position=p.node("position").integer("value"),
        quantity=p.opt_number("energy_Quantity.quantity"),
        price=None if price is None else price.number("value"),
        amount=p.opt_number("energySum_Quantity.quantity"),
        quality=p.opt_code("quality"),
    )


def _wholesale_services(root: _Node) -> WholesaleServicesDocument:
    series = []
    for s in root.nodes("Series", required=False):
        period = s.node("Period")
        series.append(
            _make(
                WholesaleSeries,
                s.path,
                transaction_id=s.text("mRID"),
                version=s.opt_text("version"),
                settlement_version=s.opt_code("settlement_Series.version"),
                original_transaction_id=s.opt_text("originalTransactionIDReference_Series.mRID"),
                grid_area=s.id("meteringGridArea_Domain.mRID", "NDK"),
                energy_supplier_gln=s.id("energySupplier_MarketParticipant.mRID", "A10"),
                metering_point_type=s.opt_code("marketEvaluationPoint.type"),
                settlement_method=s.opt_code("marketEvaluationPoint.settlementMethod"),
                charge_type=s.opt_code("chargeType.type"),
                charge_id=s.opt_text("chargeType.mRID"),
                charge_owner_gln=s.opt_id(
                    "chargeType.chargeTypeOwner_MarketParticipant.mRID", "A10"
                ),
                quantity_unit=s.code("quantity_Measure_Unit.name"),
                price_unit=s.opt_code("price_Measure_Unit.name"),
                currency=s.opt_code("currency_Unit.name"),
                points=tuple(_wholesale_point(p) for p in period.nodes("Point", required=False)),
                **_period(period),
            )
        )
    return _make(WholesaleServicesDocument, root.path, **_header(root, "E31"), series=tuple(series))


PARSERS: dict[str, Callable[[_Node], CimDocument]] = {
    "NotifyWholesaleServices_MarketDocument": _wholesale_services,
    "RejectRequestValidatedMeasureData_MarketDocument": _data_request_rejection,
    "RejectRequestAggregatedMeasureData_MarketDocument": _data_request_rejection,
    "RejectRequestWholesaleSettlement_MarketDocument": _data_request_rejection,
    "Acknowledgement_MarketDocument": _acknowledgement,
    "ReminderOfMissingMeasureData_MarketDocument": _reminders,
    "NotifyValidatedMeasureData_MarketDocument": _measure_data,
    "NotifyAggregatedMeasureData_MarketDocument": _aggregation,
    "ConfirmRequestChangeOfSupplier_MarketDocument": _answer(accepted=True),
    "RejectRequestChangeOfSupplier_MarketDocument": _answer(accepted=False),
    "ConfirmRequestCancelChangeOfSupplier_MarketDocument": _answer(True, CancelAnswer, "E68"),
    "RejectRequestCancelChangeOfSupplier_MarketDocument": _answer(False, CancelAnswer, "E68"),
    "NotifyPriceList_MarketDocument": _price_list,
    "NotifyBillingMasterData_MarketDocument": _charge_links,
}
"""Roots whose model holds all of the document's transactions."""

PER_TRANSACTION: dict[str, tuple[str, Callable[[_Node, _Node], CimDocument]]] = {
    "RequestChangeOfSupplier_MarketDocument": ("MktActivityRecord", _change_of_supplier_request),
    "RequestCancelChangeOfSupplier_MarketDocument": ("MktActivityRecord", _cancel_request),
    "GenericNotification_MarketDocument": ("MktActivityRecord", _generic_notification),
    "AccountingPointCharacteristics_MarketDocument": ("MktActivityRecord", _accounting_point),
    "RequestValidatedMeasureData_MarketDocument": ("Series", _measure_data_request),
    "RequestAggregatedMeasureData_MarketDocument": ("Series", _aggregation_request),
    "RequestWholesaleSettlement_MarketDocument": ("Series", _wholesale_request),
}
"""Roots whose model is one transaction (with the header): a document of N gives N models."""


def _reject_constant(name: str) -> NoReturn:
    raise CimError(f"malformed JSON: {name} is not a valid number")


def loads(raw: bytes | str) -> dict[str, Any]:
    """Decode CIM JSON with numbers as Decimal/int (never float); CimError if malformed."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise CimError(f"malformed JSON: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        doc = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CimError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise CimError("malformed JSON: nested too deeply") from None
    if _UNSTORABLE_HINT.search(text):
        _refuse_unstorable(doc)
    if not isinstance(doc, dict) or len(doc) != 1:
        raise CimError("a CIM document is a JSON object with exactly one root key")
    return doc


# NUL and lone surrogates reach a decoded string only as \u escapes (or in a str given as
# such); no CIM value has them, PostgreSQL text cannot store them and UTF-8 cannot encode a
# lone surrogate. The hint keeps the walk off the hot path: DataHub's documents never match.
_UNSTORABLE_HINT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|[\x00\ud800-\udfff]")


def _refuse_unstorable(doc: object) -> None:
    """CimError if any key or string of *doc* holds a NUL or a lone surrogate."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise CimError("malformed JSON: a string holds a lone surrogate") from None
            if "\x00" in item:
                raise CimError("malformed JSON: a string holds NUL (\\u0000)")


def parse_documents(raw: bytes | str) -> list[CimDocument]:
    """Parse one CIM JSON document into its typed models, one per transaction where the
    model is one transaction (RSM-004, RSM-022 and the requests), else one for the document.

    Dispatches on the single root key, validates against the official JSON schema where
    one exists, then checks the structure and business rules (codes, identifiers, times,
    point counts and positions). Anything wrong raises CimError with a one-line reason.
    """
    doc = loads(raw)
    root = next(iter(doc))
    parser = PARSERS.get(root)
    per_transaction = PER_TRANSACTION.get(root)
    if parser is None and per_transaction is None:
        raise CimError(f"unknown root {root[:80]!r}")
    validate(doc)
    node = _Node(doc[root], f"/{root}")
    if parser is not None:
        return [parser(node)]
    key, parse_one = per_transaction  # type: ignore[misc]
    return [parse_one(node, entry) for entry in node.nodes(key)]


def parse_document(raw: bytes | str) -> CimDocument:
    """Parse a CIM JSON document that is one model (see :func:`parse_documents`).

    CimError, besides the reasons of :func:`parse_documents`, for a document of several
    transactions whose model is one transaction.
    """
    docs = parse_documents(raw)
    if len(docs) != 1:
        root = next(iter(loads(raw)))
        key = PER_TRANSACTION[root][0]
        raise CimError(
            f"/{root}/{key}: {len(docs)} transactions; parse_documents gives one model each"
        )
    return docs[0]
