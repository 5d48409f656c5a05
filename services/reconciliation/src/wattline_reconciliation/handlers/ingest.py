"""Both sides arriving: DataHub's RSM-014 totals, and our metering points, supply periods and
metering data. Each stores its facts and marks the grid-area days they touch for the job."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from wattline_contracts.datahub import AggregationsReceivedV1, MeasureDataReceivedV1
from wattline_contracts.envelope import Envelope
from wattline_contracts.portfolio import MeteringPointRegisteredV1, SupplyPeriodChangedV1

from wattline_reconciliation.adapters import store
from wattline_reconciliation.domain.energy import local_dates, slot_starts, version_rank


async def on_aggregations(
    tx: asyncpg.Connection, event: AggregationsReceivedV1, envelope: Envelope
) -> None:
    del envelope
    if event.resolution not in ("PT1H", "PT15M"):
        return  # DataHub aggregates energy per hour or quarter; nothing else compares
    starts = slot_starts(event.start, event.resolution, len(event.quantities_kwh))
    rank = version_rank(event.process_type, event.settlement_version)
    method = event.settlement_method or ""
    await store.upsert_slots(
        tx,
        [
            (
                event.grid_area,
                event.metering_point_type,
                method,
                event.resolution,
                start,
                kwh,
                rank,
                event.process_type,
                event.settlement_version,
                event.datahub_message_id,
            )
            for start, kwh in zip(starts, event.quantities_kwh, strict=True)
        ],
    )
    await store.mark_pending(tx, event.grid_area, local_dates(event.start, event.end))


async def on_metering_point(
    tx: asyncpg.Connection, event: MeteringPointRegisteredV1, envelope: Envelope
) -> None:
    del envelope
    before = await store.upsert_metering_point(
        tx,
        event.gsrn,
        event.grid_area,
        event.metering_point_type,
        event.settlement_method or "",
        event.resolution,
    )
    areas = {event.grid_area} | ({before} if before else set())
    await store.mark_point_days(tx, event.gsrn, sorted(areas))


async def on_supply_period(
    tx: asyncpg.Connection, event: SupplyPeriodChangedV1, envelope: Envelope
) -> None:
    del envelope
    await store.upsert_supply_period(
        tx,
        event.supply_period_id,
        event.gsrn,
        event.start_date,
        event.end_date,
        event.reason == "rolled_back",
    )
    area = await store.grid_area_of(tx, event.gsrn)
    if area is not None:
        await store.mark_point_days(tx, event.gsrn, [area])


def _wh(kwh: Decimal | None) -> int | None:
    return None if kwh is None else int((kwh * 1000).to_integral_value())


async def on_measure_data(
    tx: asyncpg.Connection, event: MeasureDataReceivedV1, envelope: Envelope
) -> None:
    del envelope
    await store.upsert_metering_day(
        tx,
        event.gsrn,
        event.local_date,
        event.resolution,
        [_wh(q) for q in event.quantities_kwh],
        event.sent(),
    )
    area = await store.grid_area_of(tx, event.gsrn)
    if area is not None:
        await store.mark_pending(tx, area, [event.local_date])
