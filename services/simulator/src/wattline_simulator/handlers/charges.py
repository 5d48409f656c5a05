"""Charges in the daily generation: RSM-034 price lists and RSM-031 charge links (``Wholesale``).

* On the first generated day: per charge owner (each grid company, Energinet) one RSM-034
  D18 (charge information) and one RSM-034 D08 (prices valid from that day); on the first
  day of a season (1 April, 1 October) the grid companies' new tariff prices (D08).
* Every metering point our supplier supplies gets its RSM-031 charge links (grid tariff,
  grid subscription, Energinet's transmission and system tariff; factor 1, from its supply
  start) on the first generated day it is ours, once per supply period; bundled
  ``series_per_message`` metering points per document.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg
from wattline_cim import (
    Charge,
    ChargeLink,
    ChargeLinksDocument,
    PriceListDocument,
    PricePoint,
    PriceSeries,
    build_document,
    dumps,
)

from wattline_simulator.adapters import charges as charge_store
from wattline_simulator.adapters import market, store
from wattline_simulator.domain.charges import (
    ELECTRICITY_TAX_ID,
    GRID_COMPANY_GLN,
    GRID_SUBSCRIPTION_DKK_PER_MONTH,
    ChargeDef,
    hourly_prices,
    linked_charges,
    month_later,
    owners,
)
from wattline_simulator.domain.market import DayPlan
from wattline_simulator.settings import SimulatorSettings

IDS = uuid.UUID("7d0c3f1e-6a2b-5c84-9e17-3b5a0f4d2c61")
Log = tuple[str, str, int, int]  # (category, kind, documents, series)


def _id(*parts: str) -> str:
    return str(uuid.uuid5(IDS, "/".join(parts)))


def _price_series(charge: ChargeDef, plan: DayPlan) -> PriceSeries:
    if charge.charge_type == "D01":
        return PriceSeries(
            resolution="P1M",
            start=plan.start,
            end=month_later(plan.start),
            points=(PricePoint(position=1, price=GRID_SUBSCRIPTION_DKK_PER_MONTH),),
        )
    return PriceSeries(
        resolution="PT1H",
        start=plan.start,
        end=plan.end,
        points=tuple(
            PricePoint(position=i + 1, price=price)
            for i, price in enumerate(hourly_prices(charge, plan.day))
        ),
    )


def price_list(
    owner: str,
    charges: tuple[ChargeDef, ...],
    process_type: str,
    plan: DayPlan,
    receiver_gln: str,
) -> PriceListDocument:
    """RSM-034 of one owner's charges: D18 charge information or D08 prices."""
    day = plan.day.isoformat()
    return PriceListDocument(
        message_id=_id(process_type, day, owner),
        receiver_gln=receiver_gln,
        created=plan.start,
        process_type=process_type,
        charges=tuple(
            Charge(
                transaction_id=_id(process_type, day, owner, c.charge_type, c.charge_id),
                owner_gln=c.owner_gln,
                charge_type=c.charge_type,
                charge_id=c.charge_id,
                effective_date=plan.start,
                **(
                    {
                        "name": c.name,
                        "description": c.description,
                        "resolution": c.resolution,
                        "vat_payer": "D02",
                        "transparent_invoicing": c.transparent_invoicing,
                        "tax_indicator": c.charge_id == ELECTRICITY_TAX_ID,
                    }
                    if process_type == "D18"
                    else {"price_series": (_price_series(c, plan),)}
                ),
            )
            for c in charges
        ),
    )


async def _queue_price_lists(
    conn: asyncpg.Connection, plan: DayPlan, process_type: str, grid_only: bool, receiver: str
) -> int:
    rows: list[tuple[str, str, str, bytes, str | None]] = []
    for owner, charges in owners():
        if grid_only and owner not in GRID_COMPANY_GLN.values():
            continue
        document = price_list(owner, charges, process_type, plan, receiver)
        rows.append(
            (
                document.message_id,
                "Wholesale",
                "NotifyPriceList",
                dumps(build_document(document)),
                None,
            )
        )
    await store.enqueue_rows(conn, rows)
    return len(rows)


def charge_links(
    message_id: str,
    receiver_gln: str,
    created: datetime,
    points: list[tuple[str, str, str, datetime]],
) -> ChargeLinksDocument:
    """RSM-031 linking each ``(transaction_id, gsrn, grid_area, supply_start)`` to its charges."""
    return ChargeLinksDocument(
        message_id=message_id,
        receiver_gln=receiver_gln,
        created=created,
        links=tuple(
            ChargeLink(
                transaction_id=tx_id,
                gsrn=gsrn,
                owner_gln=c.owner_gln,
                charge_type=c.charge_type,
                charge_id=c.charge_id,
                factor=1,
                start=start,
            )
            for tx_id, gsrn, grid_area, start in points
            for c in linked_charges(grid_area)
        ),
    )


async def _queue_links(
    conn: asyncpg.Connection, plan: DayPlan, settings: SimulatorSettings
) -> tuple[int, int]:
    pending = await charge_store.pending_links(conn, settings.supplier_gln, plan.start)
    day = plan.day.isoformat()
    per = settings.series_per_message
    rows: list[tuple[str, str, str, bytes, str | None]] = []
    sent: list[tuple[str, datetime, date, str]] = []
    for first in range(0, len(pending), per):
        chunk = [
            (
                _id("D17", r["gsrn"], r["supply_start"].isoformat()),
                r["gsrn"],
                r["grid_area"],
                r["supply_start"],
            )
            for r in pending[first : first + per]
        ]
        message_id = _id("D17", day, chunk[0][1], chunk[-1][1], str(len(chunk)))
        document = charge_links(message_id, settings.supplier_gln, plan.start, chunk)
        rows.append(
            (
                message_id,
                "Wholesale",
                "NotifyBillingMasterData",
                dumps(build_document(document)),
                None,
            )
        )
        sent.extend((gsrn, start, plan.day, tx_id) for tx_id, gsrn, _, start in chunk)
        if len(rows) >= 200:
            await store.enqueue_rows(conn, rows)
            rows = []
    await store.enqueue_rows(conn, rows)
    await charge_store.record_links_sent(conn, sent)
    return (len(pending) + per - 1) // per, len(pending)


async def generate_charges(
    conn: asyncpg.Connection, plan: DayPlan, settings: SimulatorSettings
) -> list[Log]:
    """Queue a generated day's ``Wholesale`` documents; return their generated-log rows."""
    first = not await market.any_generated(conn)
    receiver = settings.supplier_gln
    information = prices = 0
    if first:
        information = await _queue_price_lists(conn, plan, "D18", False, receiver)
        prices = await _queue_price_lists(conn, plan, "D08", False, receiver)
    elif (plan.day.month, plan.day.day) in ((4, 1), (10, 1)):
        prices = await _queue_price_lists(conn, plan, "D08", True, receiver)
    links = await _queue_links(conn, plan, settings)
    return [
        ("Wholesale", "charge_information", information, information),
        ("Wholesale", "charge_prices", prices, prices),
        ("Wholesale", "charge_links", *links),
    ]
