"""What a DataHub document means for the rest of Wattline: the events it becomes.

Pure: a parsed CIM document in, ``(event, key)`` pairs out. RSM-012 becomes one event per
metering point and Danish local day; RSM-014 one per series; charges one per charge.
"""

from __future__ import annotations

from wattline_cim import (
    AccountingPointCharacteristics,
    AggregationDocument,
    ChangeOfSupplierAnswer,
    ChargeLinksDocument,
    CimDocument,
    CimError,
    GenericNotification,
    MeasureDataDocument,
    PriceListDocument,
    local_days,
)
from wattline_contracts import Event
from wattline_contracts.datahub import (
    AggregationsReceivedV1,
    ChargeLinkReceivedV1,
    ChargeReceivedV1,
    MasterDataReceivedV1,
    MeasureDataReceivedV1,
    NotificationReceivedV1,
    PriceSeriesV1,
    ProcessAnsweredV1,
    Reason,
)

Keyed = tuple[Event, str]


def interpret(doc: CimDocument, message_id: str) -> list[Keyed]:
    """The events *doc*, served under DataHub's *message_id*, becomes.

    Raises CimError for a document a supplier sends rather than receives.
    """
    if isinstance(doc, MeasureDataDocument):
        return _measure_data(doc, message_id)
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
    raise CimError(f"{type(doc).__name__} is a request a supplier sends, not one it receives")


def _measure_data(doc: MeasureDataDocument, message_id: str) -> list[Keyed]:
    events: list[Keyed] = []
    for series in doc.series:
        if series.resolution not in ("PT15M", "PT1H"):
            raise CimError(f"{series.gsrn}: resolution {series.resolution} is not settled hourly")
        for day in local_days(series):
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
            events.append((event, series.gsrn))
    return events


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
