"""Typed, frozen domain models of the CIM documents Wattline exchanges with DataHub.

The models are a clean business view, not a mirror of the dotted CIM JSON: `parse_document`
turns wire JSON into them and `build_document` turns them back into wire JSON. Invariants
(identifier check digits, UTC times, code lists, point counts and positions) are enforced on
construction, so a model that exists is one that can be sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Self, TypeAlias, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from wattline_cim._time import RESOLUTIONS, expected_points, fmt_minutes, fmt_seconds

DATAHUB_GLN = "5790001330552"
ACTIVE_ENERGY = "8716867000030"
QUALITIES = ("A01", "A02", "A03", "A04", "A05", "A06")
CHARGE_TYPES = ("D01", "D02", "D03")
SETTLEMENT_METHODS = ("D01", "E01", "E02", "E15")
CUSTOMER_SCHEMES = {"ARR": 10, "VAT": 8}  # CPR has 10 digits, CVR 8


# --- field types --------------------------------------------------------------------------


def gs1_check_ok(digits: str) -> bool:
    """True if the last digit is the GS1 mod-10 check digit of the others."""
    body = [int(c) for c in reversed(digits[:-1])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return (10 - total % 10) % 10 == int(digits[-1])


def _gs1(length: int, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not (len(value) == length and value.isdigit() and value.isascii()):
            raise ValueError(f"{what} must be {length} digits")
        if not gs1_check_ok(value):
            raise ValueError(f"{what} {value} has a wrong GS1 check digit")
        return value

    return check


def _one_of(allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    return check


def _matching(pattern: str, what: str) -> Callable[[str], str]:
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"{what} {value!r} is not valid")
        return value

    return check


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


def _instant(value: datetime) -> datetime:
    # CIM *_DateAndOrTime fields carry whole seconds; sub-seconds are dropped on purpose.
    return _aware_utc(value).replace(microsecond=0)


def _interval_time(value: datetime) -> datetime:
    utc = _aware_utc(value)
    if utc.second or utc.microsecond:
        raise ValueError("timeInterval times must be whole minutes")
    return utc


Gln = Annotated[str, AfterValidator(_gs1(13, "GLN"))]
Gsrn = Annotated[str, AfterValidator(_gs1(18, "GSRN"))]
GridArea = Annotated[str, AfterValidator(_matching(r"[0-9]{3}", "grid area"))]
Instant = Annotated[datetime, AfterValidator(_instant)]
IntervalTime = Annotated[datetime, AfterValidator(_interval_time)]
Resolution = Annotated[str, AfterValidator(_one_of(RESOLUTIONS, "resolution"))]
Quality = Annotated[str, AfterValidator(_one_of(QUALITIES, "quality"))]
ChargeTypeCode = Annotated[str, AfterValidator(_one_of(CHARGE_TYPES, "charge type"))]
SettlementMethod = Annotated[str, AfterValidator(_one_of(SETTLEMENT_METHODS, "settlement method"))]
MeteringPointType = Annotated[
    str, AfterValidator(_matching(r"E1[7-9]|E20|D[0-9]{2}", "metering point type"))
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class _Header(_Model):
    """Fields every market document carries."""

    message_id: str  # the document mRID
    sender_gln: Gln
    sender_role: str
    receiver_gln: Gln
    receiver_role: str
    created: Instant
    process_type: str


def _check_points(
    points: tuple[_Positioned, ...], start: datetime, end: datetime, resolution: str
) -> None:
    count = expected_points(start, end, resolution)
    if len(points) != count:
        raise ValueError(
            f"{len(points)} points, but {fmt_minutes(start)}..{fmt_minutes(end)} at "
            f"{resolution} needs {count}"
        )
    if [p.position for p in points] != list(range(1, count + 1)):
        raise ValueError(f"positions must be 1..{count} without gaps or duplicates")


class _Positioned(_Model):
    position: int = Field(ge=1, le=999_999)


_P = TypeVar("_P", bound=_Positioned)


def _sorted_points(points: tuple[_P, ...]) -> tuple[_P, ...]:
    return tuple(sorted(points, key=lambda p: p.position))


# --- RSM-012 / RSM-014 --------------------------------------------------------------------


class MeasurePoint(_Positioned):
    """One point of a time series: quantity in the series unit (kWh) and quality code."""

    quantity: Decimal | None = None
    quality: Quality | None = None

    @model_validator(mode="after")
    def _missing_needs_a02(self) -> Self:
        if self.quantity is None and self.quality != "A02":
            raise ValueError(f"point {self.position} has no quantity but quality is not A02")
        return self


class _PointSeries(_Model):
    resolution: Resolution
    start: IntervalTime
    end: IntervalTime
    points: tuple[MeasurePoint, ...]

    @field_validator("points")
    @classmethod
    def _sort(cls, points: tuple[MeasurePoint, ...]) -> tuple[MeasurePoint, ...]:
        return _sorted_points(points)

    @model_validator(mode="after")
    def _count(self) -> Self:
        _check_points(self.points, self.start, self.end, self.resolution)
        return self


class MeasureSeries(_PointSeries):
    """One RSM-012 series: validated metered data for one metering point.

    Its interval is whole steps of its resolution, but need not be whole local days (DataHub
    forwards series of at least whole hours or quarters). A position it leaves out is missing,
    as if sent with quality A02: a later message fills it.
    """

    transaction_id: str
    original_transaction_id: str | None = None
    gsrn: Gsrn
    metering_point_type: MeteringPointType
    product: str | None = ACTIVE_ENERGY
    unit: str = "KWH"
    registered_at: Instant

    @model_validator(mode="after")
    def _count(self) -> Self:
        count = expected_points(self.start, self.end, self.resolution)
        seen = [p.position for p in self.points]
        if len(set(seen)) != len(seen):
            raise ValueError("positions must not repeat")
        if seen and seen[-1] > count:
            raise ValueError(
                f"position {seen[-1]} is past the end: {fmt_minutes(self.start)}.."
                f"{fmt_minutes(self.end)} at {self.resolution} has {count}"
            )
        return self


class RefusedSeries(_Model):
    """A series of a document that could not be taken, and why; its neighbours still count."""

    index: int = Field(ge=0)  # its place in the document's Series array
    transaction_id: str | None = None
    reason: str


class MeasureDataDocument(_Header):
    """RSM-012 NotifyValidatedMeasureData (E66): DataHub (DGL) sends validated metered data."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DGL"
    receiver_role: str = "DDQ"
    process_type: str = "E23"
    series: tuple[MeasureSeries, ...]
    refused: tuple[RefusedSeries, ...] = ()  # series that broke a rule; never built


class AggregationSeries(_PointSeries):
    """One RSM-014 series: DataHub's total for a grid area / supplier / BRP combination."""

    transaction_id: str
    version: str | None = None
    original_transaction_id: str | None = None
    settlement_version: str | None = None
    grid_area: GridArea
    metering_point_type: MeteringPointType
    settlement_method: SettlementMethod | None = None
    balance_responsible_gln: Gln | None = None
    energy_supplier_gln: Gln | None = None
    product: str | None = ACTIVE_ENERGY
    unit: str = "KWH"
    registered_at: Instant | None = None


class AggregationDocument(_Header):
    """RSM-014 NotifyAggregatedMeasureData (E31): aggregated data per grid area."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DGL"
    receiver_role: str = "DDQ"
    process_type: str = "D04"
    series: tuple[AggregationSeries, ...] = Field(min_length=1)


# --- RSM-001 ------------------------------------------------------------------------------


class ChangeOfSupplierRequest(_Header):
    """RSM-001 RequestChangeOfSupplier (392): one BRS request (E03 switch, E65 move-in, E20 end).

    `customer_id` is a CPR (scheme ARR) or CVR (scheme VAT); it is kept out of repr().
    """

    sender_role: str = "DDQ"
    receiver_gln: Gln = DATAHUB_GLN
    receiver_role: str = "DDZ"
    process_type: str = "E03"
    transaction_id: str
    gsrn: Gsrn
    effective_start: Instant
    energy_supplier_gln: Gln
    balance_responsible_gln: Gln | None = None
    customer_id: str | None = Field(default=None, repr=False)
    customer_scheme: str | None = None
    customer_name: str | None = None

    @model_validator(mode="after")
    def _customer(self) -> Self:
        if (self.customer_id is None) != (self.customer_scheme is None):
            raise ValueError("customer_id and customer_scheme go together")
        if self.customer_scheme is not None and self.customer_id is not None:
            digits = CUSTOMER_SCHEMES.get(self.customer_scheme)
            if digits is None:
                raise ValueError(
                    f"customer_scheme must be ARR or VAT, got {self.customer_scheme!r}"
                )
            if not (len(self.customer_id) == digits and self.customer_id.isdigit()):
                raise ValueError(
                    f"customer id for scheme {self.customer_scheme} needs {digits} digits"
                )
        return self


class AnswerTransaction(_Model):
    """One answered transaction of an RSM-001 confirm/reject."""

    transaction_id: str
    original_transaction_id: str  # our request's transaction mRID
    gsrn: Gsrn | None = None  # always present on confirm; optional on reject per schema
    process_reference: str | None = None  # DataHub's businessProcessReference
    reasons: tuple[tuple[str, str | None], ...] = ()  # (code, text)


class ChangeOfSupplierAnswer(_Header):
    """RSM-001 Confirm/RejectRequestChangeOfSupplier (414, reason A01 confirm / A02 reject)."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DDZ"
    receiver_role: str = "DDQ"
    process_type: str = "E03"
    accepted: bool
    transactions: tuple[AnswerTransaction, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _reasons(self) -> Self:
        for tx in self.transactions:
            if self.accepted and tx.reasons:
                raise ValueError("a confirmation carries no reasons")
            if self.accepted and tx.gsrn is None:
                raise ValueError("a confirmation needs the gsrn of each transaction")
            if not self.accepted and not tx.reasons:
                raise ValueError("a rejection needs at least one reason per transaction")
        return self


# --- RSM-002 -----------------------------------------------------------------------------


class CancelRequest(_Header):
    """RSM-002 RequestCancelChangeOfSupplier (message type E67, "request regarding
    cancellation"): cancel our still-open request of the same process.

    No official JSON schema or example exists; the shape follows RSM-001's conventions and the
    names of Energinet's RSM-002 documents. Check it against a real message before relying on it.
    """

    sender_role: str = "DDQ"
    receiver_gln: Gln = DATAHUB_GLN
    receiver_role: str = "DDZ"
    process_type: str = "E03"
    transaction_id: str
    gsrn: Gsrn
    original_transaction_id: str  # the transaction of the request to cancel


class CancelAnswer(ChangeOfSupplierAnswer):
    """RSM-002 Confirm/RejectRequestCancelChangeOfSupplier (E68, reason A01 / A02)."""


# --- RSM-004 / RSM-022 --------------------------------------------------------------------


class GenericNotification(_Header):
    """RSM-004 GenericNotification (E44): e.g. another supplier takes over from validity_start."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DDZ"
    receiver_role: str = "DDQ"
    process_type: str = "E03"
    transaction_id: str
    gsrn: Gsrn
    validity_start: Instant
    process_reference: str | None = None
    original_transaction_id: str | None = None


class Address(_Model):
    """Installation address of a metering point (RSM-022 usagePointLocation)."""

    street_code: str | None = None
    street_name: str | None = None
    building_number: str | None = None
    floor: str | None = None
    suite: str | None = None
    municipality_code: str | None = None  # townDetail.code
    city: str | None = None  # townDetail.name
    country: str | None = None
    postal_code: str | None = None
    dar_id: str | None = None  # usagePointLocation.geoInfoReference (DAR address UUID)
    actual_address: bool | None = None


class AccountingPointCharacteristics(_Header):
    """RSM-022 AccountingPointCharacteristics (E07): metering point master data."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DDZ"
    receiver_role: str = "DDQ"
    process_type: str = "E03"
    transaction_id: str
    process_reference: str | None = None
    original_transaction_id: str | None = None
    validity_start: Instant
    gsrn: Gsrn
    grid_operator_gln: Gln | None = None  # meteringPointResponsible
    metering_point_type: MeteringPointType
    settlement_method: SettlementMethod | None = None
    metering_method: str | None = None
    connection_state: str | None = None
    read_cycle: Resolution | None = None
    net_settlement_group: str | None = None
    grid_area: GridArea
    capacity_kw: Decimal | None = None  # physicalConnectionCapacity (KWT)
    connection_type: str | None = None  # mPConnectionType
    disconnection_method: str | None = None
    rated_current_a: Decimal | None = None  # ratedCurrent (AMP)
    meter_id: str | None = None
    product: str | None = None
    estimated_annual_volume_kwh: Decimal | None = None
    energy_supplier_gln: Gln | None = None
    supply_start: Instant | None = None
    address: Address | None = None


# --- RSM-034 / RSM-031 --------------------------------------------------------------------


class PricePoint(_Positioned):
    """One price (DKK per unit of the charge) at a position."""

    price: Decimal


class PriceSeries(_Model):
    """Prices of a charge over an interval (RSM-034 D08 Series_Period)."""

    resolution: Resolution
    start: IntervalTime
    end: IntervalTime
    points: tuple[PricePoint, ...]

    @field_validator("points")
    @classmethod
    def _sort(cls, points: tuple[PricePoint, ...]) -> tuple[PricePoint, ...]:
        return _sorted_points(points)

    @model_validator(mode="after")
    def _count(self) -> Self:
        _check_points(self.points, self.start, self.end, self.resolution)
        return self


class Charge(_Model):
    """A charge (owner + type + id) with its master data (D18) and/or prices (D08)."""

    transaction_id: str  # the MktActivityRecord mRID
    owner_gln: Gln
    charge_type: ChargeTypeCode
    charge_id: str
    effective_date: Instant | None = None
    termination_date: Instant | None = None
    name: str | None = None
    description: str | None = None
    resolution: Resolution | None = None  # priceTimeFrame_Period.resolution
    vat_payer: str | None = None  # VATPayer code
    transparent_invoicing: bool | None = None
    tax_indicator: bool | None = None
    price_series: tuple[PriceSeries, ...] = ()


class PriceListDocument(_Header):
    """RSM-034 NotifyPriceList (D12): charge information (process D18) or prices (D08)."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DDZ"
    receiver_role: str = "DDQ"
    charges: tuple[Charge, ...] = Field(min_length=1)


class ChargeLink(_Model):
    """A metering point linked to a charge from `start` (until `end`, if given)."""

    transaction_id: str  # the MktActivityRecord mRID
    gsrn: Gsrn
    owner_gln: Gln
    charge_type: ChargeTypeCode
    charge_id: str
    factor: int = Field(default=1, ge=0)
    start: Instant
    end: Instant | None = None


class ChargeLinksDocument(_Header):
    """RSM-031 NotifyBillingMasterData (D07, process D17): charge links."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DDZ"
    receiver_role: str = "DDQ"
    process_type: str = "D17"
    links: tuple[ChargeLink, ...] = Field(min_length=1)


# --- RSM-015 / RSM-016 / RSM-017 requests -------------------------------------------------


class _DataRequest(_Header):
    """A supplier's request to DataHub's metered data administrator (DGL) for a period."""

    sender_role: str = "DDQ"
    receiver_gln: Gln = DATAHUB_GLN
    receiver_role: str = "DGL"
    transaction_id: str
    start: Instant
    end: Instant | None = None

    @model_validator(mode="after")
    def _period_forwards(self) -> Self:
        if self.end is not None and self.end <= self.start:
            raise ValueError(
                f"end {fmt_seconds(self.end)} is not after start {fmt_seconds(self.start)}"
            )
        return self


class MeasureDataRequest(_DataRequest):
    """RSM-015 RequestValidatedMeasureData (E73): ask for a metering point's validated data."""

    process_type: str = "E23"
    gsrn: Gsrn


class AggregationRequest(_DataRequest):
    """RSM-016 RequestAggregatedMeasureData (E74): ask for aggregates (balance fixing etc.)."""

    process_type: str = "D04"
    grid_area: GridArea | None = None
    energy_supplier_gln: Gln | None = None
    balance_responsible_gln: Gln | None = None
    metering_point_type: MeteringPointType | None = None
    settlement_method: SettlementMethod | None = None
    settlement_version: str | None = None


class ChargeRef(_Model):
    """A charge filter in a wholesale request (both parts optional per schema)."""

    charge_type: ChargeTypeCode | None = None
    charge_id: str | None = None


class WholesaleSettlementRequest(_DataRequest):
    """RSM-017 RequestWholesaleSettlement (D21): ask for wholesale settlement results."""

    process_type: str = "D05"
    grid_area: GridArea | None = None
    energy_supplier_gln: Gln | None = None
    charge_owner_gln: Gln | None = None
    resolution: Resolution | None = None
    settlement_version: str | None = None
    charges: tuple[ChargeRef, ...] = ()


# --- answers to a supplier's requests: RSM-015/016/017 rejections, RSM-009, RSM-018 ------


class RejectedTransaction(_Model):
    """One transaction of a request DataHub rejected, with its reasons."""

    transaction_id: str
    original_transaction_id: str | None = None  # our request's transaction mRID
    gsrn: Gsrn | None = None  # RSM-015 names the metering point
    reasons: tuple[tuple[str, str | None], ...] = Field(min_length=1)  # (code, text)


DATA_REQUESTS = {
    "RejectRequestValidatedMeasureData_MarketDocument": "RSM-015",
    "RejectRequestAggregatedMeasureData_MarketDocument": "RSM-016",
    "RejectRequestWholesaleSettlement_MarketDocument": "RSM-017",
}


class DataRequestRejection(_Header):
    """DataHub rejects our RSM-015 (validated data), RSM-016 (aggregations) or RSM-017
    (wholesale settlement) request (type ERR, reason A02)."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DGL"
    receiver_role: str = "DDQ"
    request_kind: str  # RSM-015, RSM-016 or RSM-017
    transactions: tuple[RejectedTransaction, ...] = Field(min_length=1)


class Acknowledgement(_Header):
    """RSM-009 Acknowledgement: DataHub's answer to a document we sent, with the reasons it
    refused it or parts of it (none: received as it was)."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DDZ"
    receiver_role: str = "DDQ"
    process_type: str | None = None  # type: ignore[assignment]  # the schema leaves it out
    received_message_id: str | None = None
    received_document_type: str | None = None
    received_process_type: str | None = None
    reasons: tuple[tuple[str, str | None], ...] = ()
    rejected_transactions: tuple[RejectedTransaction, ...] = ()


class MissingDataReminder(_Model):
    """One RSM-018 reminder: DataHub misses a metering point's data for a local date."""

    transaction_id: str
    gsrn: Gsrn
    missing_since: Instant | None = None  # request_DateAndOrTime: the day without data


class MissingDataReminders(_Header):
    """RSM-018 ReminderOfMissingMeasureData (D24): the metering points DataHub misses data for."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DGL"
    receiver_role: str = "MDR"
    reminders: tuple[MissingDataReminder, ...] = Field(min_length=1)


# --- RSM-019 --------------------------------------------------------------------------------


class WholesalePoint(_Positioned):
    """One step of DataHub's wholesale settlement of a charge: kWh, price and amount (DKK)."""

    quantity: Decimal | None = None  # energy_Quantity.quantity
    price: Decimal | None = None  # price.amount
    amount: Decimal | None = None  # energySum_Quantity.quantity: quantity x price
    quality: str | None = None


class WholesaleSeries(_Model):
    """DataHub's settlement of one charge (or the monthly total) in one grid area for a supplier."""

    transaction_id: str
    version: str | None = None  # DataHub's calculation version
    settlement_version: str | None = None  # D01 first correction ...; None: wholesale fixing
    original_transaction_id: str | None = None  # our RSM-017 request, when it answers one
    grid_area: GridArea
    energy_supplier_gln: Gln
    metering_point_type: MeteringPointType | None = None
    settlement_method: SettlementMethod | None = None
    charge_type: ChargeTypeCode | None = None
    charge_id: str | None = None
    charge_owner_gln: Gln | None = None
    quantity_unit: str
    price_unit: str | None = None
    currency: str | None = None
    resolution: Resolution
    start: IntervalTime
    end: IntervalTime
    points: tuple[WholesalePoint, ...]

    @field_validator("points")
    @classmethod
    def _sort(cls, points: tuple[WholesalePoint, ...]) -> tuple[WholesalePoint, ...]:
        return _sorted_points(points)

    @model_validator(mode="after")
    def _positions(self) -> Self:
        count = expected_points(self.start, self.end, self.resolution)
        seen = [p.position for p in self.points]
        if len(set(seen)) != len(seen) or (seen and seen[-1] > count):
            raise ValueError(f"positions must be distinct and within 1..{count}")
        return self


class WholesaleServicesDocument(_Header):
    """RSM-019 NotifyWholesaleServices (E31): DataHub's wholesale settlement per charge."""

    sender_gln: Gln = DATAHUB_GLN
    sender_role: str = "DDZ"
    receiver_role: str = "DDQ"
    process_type: str = "D05"
    series: tuple[WholesaleSeries, ...] = ()


CimDocument: TypeAlias = (
    MeasureDataDocument
    | AggregationDocument
    | ChangeOfSupplierRequest
    | ChangeOfSupplierAnswer
    | CancelRequest
    | CancelAnswer
    | GenericNotification
    | AccountingPointCharacteristics
    | PriceListDocument
    | ChargeLinksDocument
    | MeasureDataRequest
    | AggregationRequest
    | WholesaleSettlementRequest
    | DataRequestRejection
    | Acknowledgement
    | MissingDataReminders
    | WholesaleServicesDocument
)
"""Every document model `parse_document` returns and `build_document` accepts."""
