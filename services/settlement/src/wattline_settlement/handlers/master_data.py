"""Master data: settlement's copy of the portfolio's metering points."""

from __future__ import annotations

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.portfolio import MeteringPointRegisteredV1
from wattline_platform.inputs import FIRST_DATE

from wattline_settlement.adapters import metering_points, runs


async def on_metering_point_registered(
    tx: asyncpg.Connection, event: MeteringPointRegisteredV1, envelope: Envelope
) -> None:
    """Keep settlement's master data in step with the portfolio; a change of what the
    settlement depends on (grid or price area, type, settlement method, resolution) is
    rechecked in every settled period (master data has no validity date here)."""
    before = await metering_points.get(tx, event.gsrn)
    await metering_points.apply_master_data(tx, event, envelope.event_id)
    now = (
        event.grid_area,
        event.price_area,
        event.metering_point_type,
        event.settlement_method,
        event.resolution,
    )
    if before is not None and now != (
        before["grid_area"],
        before["price_area"],
        before["metering_point_type"],
        before["settlement_method"],
        before["resolution"],
    ):
        await runs.queue_settled(tx, "master_data_changed", FIRST_DATE, gsrns=[event.gsrn])
