"""Wholesale settlement in the simulator: RSM-019 NotifyWholesaleServices (``Wholesale``).

* Every generated day records, per grid area, metering point type and settlement method of
  our consumption (E17) points, the hourly energy it sent and how many points; a correction
  of an estimate adds what it changed to the day it corrects.
* The first generated day of a month, after the corrections of the month before (the last
  day's estimates are corrected then), queues that month's RSM-019: one document per grid
  area and charge (the grid company's tariff and subscription, Energinet's tariffs), a series
  per metering point type and settlement method (see ``domain.wholesale`` for the figures).
  A ``wholesale_deviation`` fault skews some of them by a known amount.
* An RSM-017 RequestWholesaleSettlement is answered with the same figures (never skewed) for
  the grid area and period it asks for, each series referring to the request's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import asyncpg
from wattline_cim import (
    WholesalePoint,
    WholesaleSeries,
    WholesaleServicesDocument,
    WholesaleSettlementRequest,
    build_document,
    dumps,
    validate,
)

from wattline_simulator.adapters import store
from wattline_simulator.adapters import wholesale as wholesale_store
from wattline_simulator.adapters.wholesale import Key
from wattline_simulator.domain.faults import (
    WHOLESALE_DEVIATION_CHARGE_ID,
    WHOLESALE_DEVIATION_DKK,
    budget,
    generation_fault,
)
from wattline_simulator.domain.market import DANISH_TZ, local_date
from wattline_simulator.domain.wholesale import ChargeSeries, SentDay, month_of, month_series
from wattline_simulator.settings import SimulatorSettings

IDS = uuid.UUID("5e1f9b2c-8d47-5a31-b6c0-2f7e4a9d1c83")
CALCULATION_VERSION = "1"
__all__ = ["Key", "answer_request", "queue_month", "sent_days"]
Row = tuple[str, str, str, bytes, str | None]


def _id(*parts: str) -> str:
    return str(uuid.uuid5(IDS, "/".join(parts)))


async def sent_days(
    conn: asyncpg.Connection, first: date, until: date, grid_area: str | None = None
) -> list[SentDay]:
    """The energy sent on the local days [first, until) (in *grid_area*, if given)."""
    return [
        SentDay(
            r["local_date"],
            r["grid_area"],
            r["metering_point_type"],
            r["settlement_method"] or None,
            tuple(r["hourly_wh"]),
            r["metering_points"],
        )
        for r in await wholesale_store.sent_days(conn, first, until, grid_area)
    ]


def _series(
    s: ChargeSeries, supplier_gln: str, transaction_id: str, original: str | None
) -> WholesaleSeries:
    tariff = s.charge.charge_type == "D03"
    return WholesaleSeries(
        transaction_id=transaction_id,
        version=CALCULATION_VERSION,
        original_transaction_id=original,
        grid_area=s.grid_area,
        energy_supplier_gln=supplier_gln,
        metering_point_type=s.metering_point_type,
        settlement_method=s.settlement_method,
        charge_type=s.charge.charge_type,
        charge_id=s.charge.charge_id,
        charge_owner_gln=s.charge.owner_gln,
        quantity_unit="KWH" if tariff else "H87",
        price_unit="KWH" if tariff else None,
        currency="DKK",
        resolution=s.resolution,
        start=s.start,
        end=s.end,
        points=tuple(
            WholesalePoint(position=p.position, quantity=p.quantity, price=p.price, amount=p.amount)
            for p in s.points
        ),
    )


def _skewed(series: WholesaleSeries, dkk: Decimal) -> WholesaleSeries:
    """*series* with *dkk* added to its first amount."""
    first, *rest = series.points
    assert first.amount is not None
    bumped = first.model_copy(update={"amount": first.amount + dkk})
    return series.model_copy(update={"points": (bumped, *rest)})


def _by_document(
    series: Iterable[ChargeSeries],
) -> dict[tuple[str, str, str, str], list[ChargeSeries]]:
    """One RSM-019 per grid area and charge (owner, type, id), series in their order."""
    out: dict[tuple[str, str, str, str], list[ChargeSeries]] = {}
    for s in series:
        key = (s.grid_area, s.charge.owner_gln, s.charge.charge_type, s.charge.charge_id)
        out.setdefault(key, []).append(s)
    return out


def _document(
    message_id: str, receiver: str, created: datetime, series: Sequence[WholesaleSeries]
) -> tuple[WholesaleServicesDocument, bytes]:
    document = WholesaleServicesDocument(
        message_id=message_id, receiver_gln=receiver, created=created, series=tuple(series)
    )
    built = build_document(document)
    validate(built)  # what DataHub sends passes its own schema
    return document, dumps(built)


async def queue_month(
    conn: asyncpg.Connection, day: date, created: datetime, settings: SimulatorSettings
) -> tuple[int, int]:
    """On *day*, the first of a month, queue the RSM-019 of the month before; (documents,
    series) queued."""
    if day.day != 1:
        return 0, 0
    previous = day - timedelta(days=1)
    period = month_of(previous)
    all_series = month_series(period, await sent_days(conn, previous.replace(day=1), day))
    documents = _by_document(all_series)
    fault = generation_fault(await store.faults(conn), "wholesale_deviation", "Wholesale")
    targets = sorted(k for k in documents if k[3] == WHOLESALE_DEVIATION_CHARGE_ID)
    skew = set(targets[: budget(fault, len(targets))])
    ours = settings.supplier_gln
    rows: list[Row] = []
    logged = []
    series_count = 0
    for key, group in documents.items():
        area, owner, charge_type, charge_id = key
        series = [
            _series(
                s,
                ours,
                _id(
                    "E31", period, area, charge_id, s.metering_point_type, s.settlement_method or ""
                ),
                None,
            )
            for s in group
        ]
        deviation = None
        if key in skew:
            series[0] = _skewed(series[0], WHOLESALE_DEVIATION_DKK)
            deviation = WHOLESALE_DEVIATION_DKK
        total = sum((p.amount or Decimal(0) for s in series for p in s.points), Decimal(0))
        message_id = _id("E31", period, area, owner, charge_type, charge_id, str(total))
        _, body = _document(message_id, ours, created, series)
        fault_kind = "wholesale_deviation" if deviation is not None else None
        rows.append((message_id, "Wholesale", "NotifyWholesaleServices", body, fault_kind))
        logged.append(
            (period, area, owner, charge_type, charge_id, day, message_id, total, deviation)
        )
        series_count += len(series)
    if rows:
        await store.enqueue_rows(conn, rows)
        await wholesale_store.log_generated(conn, logged)
    if fault is not None and skew:
        await store.consume_fault_uses(conn, fault, len(skew))
    return len(rows), series_count


async def answer_request(
    conn: asyncpg.Connection,
    request: WholesaleSettlementRequest,
    settings: SimulatorSettings,
    now: datetime,
) -> WholesaleServicesDocument | None:
    """Queue the RSM-019 answering an RSM-017 (None: nothing to answer): the months of the
    requested period, from the days generated inside it, filtered as asked."""
    ours = settings.supplier_gln
    if request.energy_supplier_gln not in (None, ours):
        return None
    first = local_date(request.start)
    if request.start.astimezone(DANISH_TZ).time() != datetime.min.time():
        first += timedelta(days=1)  # a day the period covers only in part is not asked for
    until = local_date(request.end or now)
    wanted = {(c.charge_type, c.charge_id) for c in request.charges}
    days = await sent_days(conn, first, until, request.grid_area)
    series: list[WholesaleSeries] = []
    for period in sorted({month_of(d.local_date) for d in days}):
        for s in month_series(period, days):
            charge = s.charge
            if request.charge_owner_gln not in (None, charge.owner_gln):
                continue
            if wanted and not any(
                t in (None, charge.charge_type) and i in (None, charge.charge_id) for t, i in wanted
            ):
                continue
            tx_id = _id(
                "E31",
                request.transaction_id,
                period,
                s.grid_area,
                charge.owner_gln,
                charge.charge_id,
                s.metering_point_type,
                s.settlement_method or "",
            )
            series.append(_series(s, ours, tx_id, request.transaction_id))
    if not series:
        return None
    message_id = _id("E31", request.message_id, request.transaction_id)
    document, body = _document(message_id, request.sender_gln, now, series)
    await store.enqueue(conn, "Wholesale", "NotifyWholesaleServices", body, message_id)
    return document
