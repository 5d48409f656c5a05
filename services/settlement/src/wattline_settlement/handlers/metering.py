"""Metering data: storing DataHub's measure data (RSM-012) and reading consumption back.

``datahub.measure_data.received`` events are stored by :func:`on_measure_data`, a batch of
them at a time (one COPY; see ``adapters/metering_data.py``). :func:`consumption` reads the
latest versions back for the metering-data API (the document: ``domain/consumption.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.datahub import MeasureDataReceivedV1
from wattline_platform.db import Database
from wattline_platform.logging import get_logger

from wattline_settlement.adapters import metering_data
from wattline_settlement.domain.consumption import (
    Consumption,
    NoMeteringData,
    consumption_document,
    interval_resolution,
    resolution_for,
)

log = get_logger(__name__)


async def on_measure_data(
    tx: asyncpg.Connection, items: Sequence[tuple[MeasureDataReceivedV1, Envelope]]
) -> None:
    """Store the received days as new versions, all in one load (inside the batch's tx)."""
    days = [metering_data.measure_day(event, envelope.event_id) for event, envelope in items]
    stored = await metering_data.store(tx, days)
    # A batch holds many DataHub messages: their MessageIds and correlation ids are named, so
    # a message followed by either (datahub_message_parsed names both) is found here too.
    log.info(
        "measure_data_stored",
        days=len(stored),
        corrections=sum(1 for change in stored if change.version > 1),
        datahub_message_ids=sorted({event.datahub_message_id for event, _ in items}),
        correlation_ids=sorted({envelope.correlation_id for _, envelope in items}),
    )


async def consumption(
    db: Database, gsrn: str, start: date, end: date, resolution: str | None
) -> Consumption:
    """*gsrn*'s consumption over the local dates ``[start, end)`` at *resolution* (default:
    the stored one). Raises :class:`NoMeteringData` for a metering point without any and
    :class:`ResolutionUnavailable` for PT15M of hourly data."""
    async with db.connection() as conn:
        days = (await metering_data.latest_days(conn, [gsrn], start, end)).get(gsrn, {})
        stored: set[str] = {d.resolution for d in days.values()}
        if not stored:
            last = await metering_data.last_resolution(conn, gsrn)
            if last is None:
                raise NoMeteringData(gsrn)
            stored = {last}
    answer = resolution_for(resolution, stored)
    return consumption_document(gsrn, start, end, answer, days, interval_resolution(stored))
