"""Settlement event handlers: run inside the consumer's transaction (inbox already recorded)."""

from __future__ import annotations

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.portfolio import MeteringPointRegisteredV1

from wattline_settlement.adapters import metering_points


async def on_metering_point_registered(
    tx: asyncpg.Connection, event: MeteringPointRegisteredV1, envelope: Envelope
) -> None:
    """Keep settlement's master data in step with the portfolio."""
    await metering_points.apply_master_data(tx, event, envelope.event_id)
