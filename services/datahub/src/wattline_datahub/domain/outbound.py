"""The CIM document a portfolio request becomes (pure: no I/O, no clock of its own)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from wattline_cim import (
    AggregationRequest,
    CancelRequest,
    ChangeOfSupplierRequest,
    CimDocument,
    MeasureDataRequest,
    WholesaleSettlementRequest,
)
from wattline_contracts.portfolio import DataHubRequestRaisedV1, transaction_id_for

T = TypeVar("T")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# RSM-001 process types per BRS, from Energinet's process type code list
# (urn-entsoe-eu-wgedi-codelists): E03 change of balance supplier, E65 customer move-in,
# E20 end of supply, D07 rollback change-of-supplier, E66 customer move-out, D33 incorrect
# move. The request shape for the last three follows RSM-001; check it against a real message.
PROCESS_TYPES = {
    "BRS-001": "E03",
    "BRS-002": "E20",
    "BRS-003": "D07",
    "BRS-009": "E65",
    "BRS-010": "E66",
    "BRS-011": "D33",
}
# The incomingMessages document type each request is posted as.
DOCUMENT_TYPES = {
    **dict.fromkeys(PROCESS_TYPES, "RequestChangeOfSupplier"),
    "RSM-002": "RequestCancelChangeOfSupplier",
    "RSM-015": "RequestValidatedMeasureData",
    "RSM-016": "RequestAggregatedMeasureData",
    "RSM-017": "RequestWholesaleSettlement",
}


class InvalidRequest(ValueError):
    """A request that cannot become a valid document (missing field, bad value)."""


def local_midnight(day: date) -> datetime:
    """Danish local midnight of *day*, as an aware datetime (UTC offset included)."""
    return datetime.combine(day, time(), tzinfo=COPENHAGEN)


def to_document(
    request: DataHubRequestRaisedV1,
    *,
    customer_id: str | None,
    supplier_gln: str,
    message_id: str,
    transaction_id: str,
    now: datetime,
) -> tuple[str, CimDocument]:
    """The document type and document for *request*; *customer_id* already unsealed."""
    head = {
        "message_id": message_id,
        "sender_gln": supplier_gln,
        "created": now,
        "transaction_id": transaction_id,
    }
    try:
        if request.kind in PROCESS_TYPES:
            return DOCUMENT_TYPES[request.kind], _change_of_supplier(
                request, customer_id, supplier_gln, head
            )
        if request.kind == "RSM-002":
            cancels = _required(request.cancels_request_id, "cancels_request_id")
            return DOCUMENT_TYPES[request.kind], CancelRequest(
                **head,
                process_type=PROCESS_TYPES[_required(request.cancels_kind, "cancels_kind")],
                gsrn=_required(request.gsrn, "gsrn"),
                original_transaction_id=transaction_id_for(cancels),
            )
        if request.kind == "RSM-015":
            return DOCUMENT_TYPES[request.kind], MeasureDataRequest(
                **head,
                gsrn=_required(request.gsrn, "gsrn"),
                start=_required(request.period_start, "period_start"),
                end=request.period_end,
            )
        if request.kind == "RSM-017":
            # Our own settlement per charge of a grid area's month: one supplier's, ours.
            return DOCUMENT_TYPES[request.kind], WholesaleSettlementRequest(
                **head,
                start=_required(request.period_start, "period_start"),
                end=_required(request.period_end, "period_end"),
                grid_area=_required(request.grid_area, "grid_area"),
                energy_supplier_gln=supplier_gln,
            )
        return DOCUMENT_TYPES[request.kind], AggregationRequest(
            **head,
            start=_required(request.period_start, "period_start"),
            end=request.period_end,
            grid_area=request.grid_area,
            energy_supplier_gln=supplier_gln,
            balance_responsible_gln=request.balance_responsible_gln,
            metering_point_type=request.metering_point_type,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InvalidRequest(f"{request.kind} {request.request_id}: {_first_line(exc)}") from None


def _change_of_supplier(
    request: DataHubRequestRaisedV1,
    customer_id: str | None,
    supplier_gln: str,
    head: dict[str, Any],
) -> ChangeOfSupplierRequest:
    effective = _required(request.effective_date, "effective_date")
    return ChangeOfSupplierRequest(
        **head,
        process_type=PROCESS_TYPES[request.kind],
        gsrn=_required(request.gsrn, "gsrn"),
        effective_start=local_midnight(effective),
        energy_supplier_gln=supplier_gln,
        balance_responsible_gln=request.balance_responsible_gln,
        customer_id=customer_id,
        customer_scheme=request.customer_scheme if customer_id else None,
        customer_name=request.customer_name,
    )


def _required(value: T | None, name: str) -> T:
    if value is None:
        raise ValueError(f"{name} is required")
    return value


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
