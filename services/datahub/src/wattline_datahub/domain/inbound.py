"""What a DataHub document means for the rest of Wattline: the events it becomes.

Pure: a parsed CIM document in, ``(event, key)`` pairs out. RSM-012 becomes one event per
metering point and Danish local day; RSM-014 one per series; charges one per charge.

A day an RSM-012 series covers only in part (DataHub forwards series of whole hours or
quarters) is a :class:`PartialDay`: the handler merges it with what earlier messages brought
for that day (:func:`merge`) and publishes the day as it then stands, the rest still missing.
A series that breaks a rule is refused on its own; its neighbours are taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wattline_cim import (
    AccountingPointCharacteristics,
    Acknowledgement,
    AggregationDocument,
    ChangeOfSupplierAnswer,
    ChargeLinksDocument,
    CimDocument,
    CimError,
    DataRequestRejection,
    GenericNotification,
    LocalDay,
    MeasureDataDocument,
    MeasureSeries,
    MissingDataReminders,
    PriceListDocument,
    WholesaleServicesDocument,
    local_days,
)
from wattline_contracts import Event
from wattline_contracts.datahub import (
    AcknowledgementReceivedV1,
    AggregationsReceivedV1,
    ChargeLinkReceivedV1,
    ChargeReceivedV1,
    DataRequestRejectedV1,
    MasterDataReceivedV1,
    MeasureDataReceivedV1,
    MissingDataRemindedV1,
    NotificationReceivedV1,
    PriceSeriesV1,
    ProcessAnsweredV1,
    Reason,
    RejectedTransactionV1,
    WholesalePointV1,
    WholesaleServicesReceivedV1,
)

Keyed = tuple[Event, str]


@dataclass(frozen=True)
class PartialDay:
    """A local day one series covered in part, with the series it came in."""

    series: MeasureSeries
    day: LocalDay


@dataclass(frozen=True)
class Understood:
    """What a document becomes: events to publish, partial days to merge first, refusals."""

    events: list[Keyed] = field(default_factory=list)
    partial_days: list[PartialDay] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one reason per refused series
    whole_days: list[LocalDay] = field(default_factory=list)  # replace a kept partial day
    # our requests DataHub rejected: (their transaction id, the reasons as one line)
    rejected_requests: list[tuple[str, str]] = field(default_factory=list)

    @staticmethod
    def joined(parts: list[Understood]) -> Understood:
        """One document's transactions (one model each) understood together, in order."""
        return Understood(
            events=[e for p in parts for e in p.events],
            partial_days=[d for p in parts for d in p.partial_days],
            refused=[r for p in parts for r in p.refused],
            whole_days=[d for p in parts for d in p.whole_days],
            rejected_requests=[r for p in parts for r in p.rejected_requests],
        )

    @property
    def count(self) -> int:
        """How many events the document gives (a partial day gives one, once merged)."""
        return len(self.events) + len(self.partial_days)


def interpret(doc: CimDocument, message_id: str) -> Understood:
    """What *doc*, served under DataHub's *message_id*, becomes.

    Raises CimError for a document a supplier sends rather than receives, and for an RSM-012
    document none of whose series can be taken.
    """
    if isinstance(doc, MeasureDataDocument):
        return _measure_data(doc, message_id)
    if isinstance(doc, DataRequestRejection):
        return _rejection(doc, message_id)
    return Understood(events=_events(doc, message_id))


def _reasons(reasons: tuple[tuple[str, str | None], ...]) -> list[Reason]:
    return [Reason(code=code, text=text) for code, text in reasons]


def reason_line(reasons: list[Reason]) -> str:
    """Reasons as one line for a person: `E16 Målepunktet findes ikke; D66`."""
    return "; ".join(f"{r.code} {r.text}" if r.text else r.code for r in reasons)


def _rejection(doc: DataRequestRejection, message_id: str) -> Understood:
    result = Understood()
    for tx in doc.transactions:
        event = DataRequestRejectedV1(
            datahub_message_id=message_id,
            request_kind=doc.request_kind,
            transaction_id=tx.transaction_id,
            original_transaction_id=tx.original_transaction_id,
            gsrn=tx.gsrn,
            reasons=_reasons(tx.reasons),
        )
        result.events.append((event, tx.gsrn or tx.original_transaction_id or tx.transaction_id))
        if tx.original_transaction_id is not None:
            result.rejected_requests.append(
                (tx.original_transaction_id, reason_line(event.reasons))
            )
    return result


def _acknowledgement(doc: Acknowledgement, message_id: str) -> Keyed:
    event = AcknowledgementReceivedV1(
        datahub_message_id=message_id,
        received_message_id=doc.received_message_id,
        received_document_type=doc.received_document_type,
        accepted=not doc.reasons and not doc.rejected_transactions,
        reasons=_reasons(doc.reasons),
        rejected_transactions=[
            RejectedTransactionV1(transaction_id=tx.transaction_id, reasons=_reasons(tx.reasons))
            for tx in doc.rejected_transactions
        ],
    )
    return event, doc.received_message_id or message_id


def _reminders(doc: MissingDataReminders, message_id: str) -> list[Keyed]:
    return [
        (
            MissingDataRemindedV1(
                datahub_message_id=message_id,
                transaction_id=r.transaction_id,
                gsrn=r.gsrn,
                missing_since=r.missing_since,
            ),
            r.gsrn,
        )
        for r in doc.reminders
    ]


def _events(doc: CimDocument, message_id: str) -> list[Keyed]:
    if isinstance(doc, AggregationDocument):
        return _aggregations(doc, message_id)
    if isinstance(doc, AccountingPointCharacteristics):
        return [(_master_data(doc, message_id), doc.gsrn)]
    if isinstance(doc, ChangeOfSupplierAnswer):
        return _answers(doc, message_id)
    if isinstance(doc, GenericNotification):
        return [(_notification(doc, message_id), doc.gsrn)]
    if isinstance(doc, PriceListDocument):
        return _charges(doc, message_id)
    if isinstance(doc, ChargeLinksDocument):
        return _links(doc, message_id)
    if isinstance(doc, Acknowledgement):
        return [_acknowledgement(doc, message_id)]
    if isinstance(doc, MissingDataReminders):
        return _reminders(doc, message_id)
    if isinstance(doc, WholesaleServicesDocument):
        return _wholesale(doc, message_id)
    raise CimError(f"{type(doc).__name__} is a request a supplier sends, not one it receives")


def measure_day_event(message_id: str, series: MeasureSeries, day: LocalDay) -> Keyed:
    """The event of one metering point's local day (missing positions as None)."""
    event = MeasureDataReceivedV1(
        datahub_message_id=message_id,
        transaction_id=series.transaction_id,
        original_transaction_id=series.original_transaction_id,
        gsrn=series.gsrn,
        metering_point_type=series.metering_point_type,
        local_date=day.local_date,
        resolution=series.resolution,
        quantities_kwh=list(day.values),
        qualities=list(day.qualities),
    )
    return event, series.gsrn


def merge(stored: LocalDay | None, piece: LocalDay) -> LocalDay:
    """*piece* laid over what was *stored* for its day: a received position replaces the
    stored one, the others stay. A day stored at another resolution is replaced whole."""
    if (
        stored is None
        or piece.received is None
        or stored.resolution != piece.resolution
        or len(stored.values) != len(piece.values)
    ):
        return piece
    had = stored.received or (True,) * len(stored.values)
    fresh = piece.received
    received = tuple(a or b for a, b in zip(had, fresh, strict=True))
    return piece.model_copy(
        update={
            "values": tuple(
                p if new else s
                for s, p, new in zip(stored.values, piece.values, fresh, strict=True)
            ),
            "qualities": tuple(
                p if new else s
                for s, p, new in zip(stored.qualities, piece.qualities, fresh, strict=True)
            ),
            "received": None if all(received) else received,
        }
    )


def _measure_data(doc: MeasureDataDocument, message_id: str) -> Understood:
    result = Understood(refused=[f"series {r.index}: {r.reason}" for r in doc.refused])
    for series in doc.series:
        try:
            if series.resolution not in ("PT15M", "PT1H"):
                raise CimError(f"resolution {series.resolution} is not settled hourly")
            days = local_days(series)
        except CimError as exc:
            result.refused.append(f"series {series.transaction_id} ({series.gsrn}): {exc}")
            continue
        for day in days:
            if day.complete:
                result.events.append(measure_day_event(message_id, series, day))
                result.whole_days.append(day)
            else:
                result.partial_days.append(PartialDay(series, day))
    if not result.count and result.refused:
        raise CimError("; ".join(result.refused))
    return result


def _aggregations(doc: AggregationDocument, message_id: str) -> list[Keyed]:
    return [
        (
            AggregationsReceivedV1(
                datahub_message_id=message_id,
                transaction_id=s.transaction_id,
                process_type=doc.process_type,
                grid_area=s.grid_area,
                metering_point_type=s.metering_point_type,
                settlement_method=s.settlement_method,
                energy_supplier_gln=s.energy_supplier_gln,
                balance_responsible_gln=s.balance_responsible_gln,
                settlement_version=s.settlement_version,
                resolution=s.resolution,
                start=s.start,
                end=s.end,
                quantities_kwh=[p.quantity for p in s.points],
                qualities=[p.quality for p in s.points],
            ),
            s.grid_area,
        )
        for s in doc.series
    ]


def _master_data(doc: AccountingPointCharacteristics, message_id: str) -> MasterDataReceivedV1:
    return MasterDataReceivedV1(
        datahub_message_id=message_id,
        transaction_id=doc.transaction_id,
        process_type=doc.process_type,
        process_reference=doc.process_reference,
        gsrn=doc.gsrn,
        validity_start=doc.validity_start,
        metering_point_type=doc.metering_point_type,
        settlement_method=doc.settlement_method,
        resolution=doc.read_cycle,
        grid_area=doc.grid_area,
        connection_state=doc.connection_state,
        energy_supplier_gln=doc.energy_supplier_gln,
        supply_start=doc.supply_start,
        estimated_annual_volume_kwh=doc.estimated_annual_volume_kwh,
        dar_id=doc.address.dar_id if doc.address else None,
    )


def _answers(doc: ChangeOfSupplierAnswer, message_id: str) -> list[Keyed]:
    return [
        (
            ProcessAnsweredV1(
                datahub_message_id=message_id,
                process_type=doc.process_type,
                original_transaction_id=tx.original_transaction_id,
                gsrn=tx.gsrn,
                accepted=doc.accepted,
                process_reference=tx.process_reference,
                reasons=[Reason(code=code, text=text) for code, text in tx.reasons],
            ),
            tx.gsrn or tx.original_transaction_id,
        )
        for tx in doc.transactions
    ]


def _notification(doc: GenericNotification, message_id: str) -> NotificationReceivedV1:
    return NotificationReceivedV1(
        datahub_message_id=message_id,
        transaction_id=doc.transaction_id,
        process_type=doc.process_type,
        gsrn=doc.gsrn,
        validity_start=doc.validity_start,
        process_reference=doc.process_reference,
    )


def _charges(doc: PriceListDocument, message_id: str) -> list[Keyed]:
    return [
        (
            ChargeReceivedV1(
                datahub_message_id=message_id,
                process_type=doc.process_type,
                owner_gln=c.owner_gln,
                charge_type=c.charge_type,
                charge_id=c.charge_id,
                name=c.name,
                description=c.description,
                resolution=c.resolution,
                effective_date=c.effective_date,
                termination_date=c.termination_date,
                vat_payer=c.vat_payer,
                transparent_invoicing=c.transparent_invoicing,
                tax_indicator=c.tax_indicator,
                price_series=[
                    PriceSeriesV1(
                        resolution=p.resolution,
                        start=p.start,
                        end=p.end,
                        prices=[point.price for point in p.points],
                    )
                    for p in c.price_series
                ],
            ),
            f"{c.owner_gln}:{c.charge_type}:{c.charge_id}",
        )
        for c in doc.charges
    ]


def _links(doc: ChargeLinksDocument, message_id: str) -> list[Keyed]:
    return [
        (
            ChargeLinkReceivedV1(
                datahub_message_id=message_id,
                transaction_id=link.transaction_id,
                gsrn=link.gsrn,
                owner_gln=link.owner_gln,
                charge_type=link.charge_type,
                charge_id=link.charge_id,
                factor=link.factor,
                start=link.start,
                end=link.end,
            ),
            link.gsrn,
        )
        for link in doc.links
    ]


def _wholesale(doc: WholesaleServicesDocument, message_id: str) -> list[Keyed]:
    return [
        (
            WholesaleServicesReceivedV1(
                datahub_message_id=message_id,
                transaction_id=s.transaction_id,
                calculation_version=s.version,
                settlement_version=s.settlement_version,
                original_transaction_id=s.original_transaction_id,
                grid_area=s.grid_area,
                energy_supplier_gln=s.energy_supplier_gln,
                metering_point_type=s.metering_point_type,
                settlement_method=s.settlement_method,
                charge_type=s.charge_type,
                charge_id=s.charge_id,
                charge_owner_gln=s.charge_owner_gln,
                quantity_unit=s.quantity_unit,
                currency=s.currency,
                resolution=s.resolution,
                start=s.start,
                end=s.end,
                points=[
                    WholesalePointV1(
                        position=p.position, quantity=p.quantity, price=p.price, amount=p.amount
                    )
                    for p in s.points
                ],
            ),
            s.grid_area,
        )
        for s in doc.series
    ]
