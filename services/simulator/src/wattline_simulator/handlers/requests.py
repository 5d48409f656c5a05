"""RSM-015 / RSM-016 requests for measure data and aggregates, answered from the same
deterministic profiles as the daily generation.

* RSM-015 (``MeasureDataRequest``) for one of our metering points: an RSM-012 in
  ``MeasureData`` with one series per generated local day in the requested period, the
  values as last sent (the first RSM-012's, or the correction's once it was sent), each
  series referring to the request's transaction id.
* RSM-016 (``AggregationRequest``): an RSM-014 in ``Aggregations`` with one series per grid
  area and generated day: the hourly totals of our flex consumption metering points, as the
  daily RSM-014 computed them (without injected deviations).

Requests that match nothing (unknown or foreign metering point, no generated day, filters
for another supplier) are accepted without an answer: the CIM library has no reject model
for them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import asyncpg
from wattline_cim import (
    ACTIVE_ENERGY,
    AggregationDocument,
    AggregationRequest,
    AggregationSeries,
    MeasureDataDocument,
    MeasureDataRequest,
    MeasurePoint,
    MeasureSeries,
)

from wattline_simulator.adapters import market, store
from wattline_simulator.domain.market import day_plan, hourly_sums, kwh_text, point_day
from wattline_simulator.settings import SimulatorSettings

IDS = uuid.UUID("c3a1e9d4-2f6b-5a07-8d3e-1b9c4f7a0e52")
MAX_DAYS = 31


def _id(*parts: str) -> str:
    return str(uuid.uuid5(IDS, "/".join(parts)))


def _points(values: list[int], estimated: tuple[int, int] | None) -> tuple[MeasurePoint, ...]:
    first, last = estimated if estimated is not None else (0, 0)
    return tuple(
        MeasurePoint(
            position=i + 1,
            quantity=Decimal(kwh_text(v)),
            quality="A03" if first <= i < last else "A04",
        )
        for i, v in enumerate(values)
    )


async def answer_measure_data(
    conn: asyncpg.Connection,
    request: MeasureDataRequest,
    settings: SimulatorSettings,
    now: datetime,
) -> MeasureDataDocument | None:
    """Queue the RSM-012 answering *request* (None: nothing to answer)."""
    point = await market.metering_point(conn, request.gsrn)
    if point is None or point["supplier_gln"] != settings.supplier_gln:
        return None
    corrected = await market.corrected_days(conn, request.gsrn)
    series: list[MeasureSeries] = []
    for day in await market.generated_days_within(conn, request.start, request.end, MAX_DAYS):
        plan = day_plan(day)
        values = point_day(
            request.gsrn, plan, point["profile"], point["resolution"], point["annual_kwh"]
        )
        sent, estimated = (
            (values.values, None) if day in corrected else (values.sent, values.estimated)
        )
        series.append(
            MeasureSeries(
                transaction_id=_id("E66", request.transaction_id, day.isoformat()),
                original_transaction_id=request.transaction_id,
                gsrn=request.gsrn,
                metering_point_type=point["metering_point_type"],
                product=ACTIVE_ENERGY,
                registered_at=plan.end,
                resolution=point["resolution"],
                start=plan.start,
                end=plan.end,
                points=_points(sent, estimated),
            )
        )
    if not series:
        return None
    document = MeasureDataDocument(
        message_id=_id("E66", request.message_id, request.transaction_id),
        receiver_gln=request.sender_gln,
        created=now,
        series=tuple(series),
    )
    await store.enqueue_document(conn, "MeasureData", "NotifyValidatedMeasureData", document)
    return document


async def answer_aggregation(
    conn: asyncpg.Connection,
    request: AggregationRequest,
    settings: SimulatorSettings,
    now: datetime,
) -> AggregationDocument | None:
    """Queue the RSM-014 answering *request* (None: nothing to answer)."""
    ours = settings.supplier_gln
    if (
        request.energy_supplier_gln not in (None, ours)
        or request.balance_responsible_gln not in (None, settings.balance_responsible_gln)
        or request.metering_point_type not in (None, "E17")
        or request.settlement_method not in (None, "D01")
    ):
        return None
    points = [
        p
        for p in await market.supplied_points(conn, ours)
        if p["metering_point_type"] == "E17"
        and p["settlement_method"] == "D01"
        and request.grid_area in (None, p["grid_area"])
    ]
    series: list[AggregationSeries] = []
    for day in await market.generated_days_within(conn, request.start, request.end, MAX_DAYS):
        plan = day_plan(day)
        totals: dict[str, list[int]] = {}
        estimated_hours: dict[str, set[int]] = {}
        for p in points:
            values = point_day(p["gsrn"], plan, p["profile"], p["resolution"], p["annual_kwh"])
            hourly = totals.setdefault(p["grid_area"], [0] * plan.hours)
            for hour, wh in enumerate(hourly_sums(values.sent, p["resolution"])):
                hourly[hour] += wh
            hours = estimated_hours.setdefault(p["grid_area"], set())
            if values.estimated is not None:
                step = 4 if p["resolution"] == "PT15M" else 1
                first, last = values.estimated
                hours.update(range(first // step, (last - 1) // step + 1))
        for grid_area in sorted(totals):
            series.append(
                AggregationSeries(
                    transaction_id=_id("E31", request.transaction_id, grid_area, day.isoformat()),
                    version="1",
                    original_transaction_id=request.transaction_id,
                    grid_area=grid_area,
                    metering_point_type="E17",
                    settlement_method="D01",
                    balance_responsible_gln=settings.balance_responsible_gln,
                    energy_supplier_gln=ours,
                    product=ACTIVE_ENERGY,
                    resolution="PT1H",
                    start=plan.start,
                    end=plan.end,
                    points=tuple(
                        MeasurePoint(
                            position=hour + 1,
                            quantity=Decimal(kwh_text(wh)),
                            quality="A03" if hour in estimated_hours[grid_area] else None,
                        )
                        for hour, wh in enumerate(totals[grid_area])
                    ),
                )
            )
    if not series:
        return None
    document = AggregationDocument(
        message_id=_id("E31", request.message_id, request.transaction_id),
        receiver_gln=request.sender_gln,
        created=now,
        series=tuple(series),
    )
    await store.enqueue_document(conn, "Aggregations", "NotifyAggregatedMeasureData", document)
    return document
