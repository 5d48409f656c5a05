"""Prices and charges: DataHub's charges and links (RSM-034/031), portfolio's products,
contracts and supply periods (consumed here), and spot prices from Energi Data Service
(``Elspotprices`` hourly until the local day 2025-09-30, ``DayAheadPrices`` 15-minute from
2025-10-01), over HTTP (:func:`import_spot`, :func:`import_days`, the periodic
``jobs/spot_import.py``) or from a file in EDS's JSON (:func:`import_spot_file`). Which charge
is which line: :mod:`.domain.charge_rules`; what the engine reads: ``adapters/charges.py`` and
``adapters/prices.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.datahub import ChargeLinkReceivedV1, ChargeReceivedV1
from wattline_contracts.portfolio import (
    ContractChangedV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
)
from wattline_platform.business_days import danish_today
from wattline_platform.db import Database
from wattline_platform.inputs import FIRST_DATE
from wattline_platform.logging import get_logger

from wattline_settlement.adapters import charges, supply_periods
from wattline_settlement.adapters import prices as spot_store
from wattline_settlement.adapters import runs as run_store
from wattline_settlement.adapters.prices import EdsClient, StoreResult
from wattline_settlement.domain import charge_rules
from wattline_settlement.domain.engine import format_instant
from wattline_settlement.settings import SettlementService, SettlementSettings

log = get_logger(__name__)


# --- consumers ---------------------------------------------------------------------------


async def on_charge_received(
    tx: asyncpg.Connection, event: ChargeReceivedV1, envelope: Envelope
) -> None:
    """A charge's master data and/or prices (RSM-034)."""
    written = await charges.apply_charge(tx, event, envelope.event_id)
    # Prices (or master data: a termination, the tax indicator) changed back-dated into a
    # settled period: recheck the metering points linked to the charge from that day on.
    moments = [series.start for series in event.price_series]
    if event.process_type == "D18" or not moments:
        moments += [t for t in (event.effective_date, event.termination_date) if t is not None]
    await run_store.queue_settled(
        tx,
        "charge_prices_changed",
        min((danish_today(t) for t in moments), default=FIRST_DATE),
        charge=(event.owner_gln, event.charge_type, event.charge_id),
    )
    log.info(
        "charge_received",
        owner_gln=event.owner_gln,
        charge_type=event.charge_type,
        charge_id=event.charge_id,
        process_type=event.process_type,
        price_versions=written,
    )


async def on_charge_link_received(
    tx: asyncpg.Connection, event: ChargeLinkReceivedV1, envelope: Envelope
) -> None:
    """A metering point linked to a charge (RSM-031)."""
    await charges.apply_charge_link(tx, event, envelope.event_id)
    # Open-ended: a link that now ends earlier changes the days after its new end too.
    await run_store.queue_settled(
        tx, "charge_links_changed", danish_today(event.start), gsrns=[event.gsrn]
    )


async def on_product_version_published(
    tx: asyncpg.Connection, event: ProductVersionPublishedV1, envelope: Envelope
) -> None:
    await charges.apply_product_version(tx, event, envelope.event_id)


async def on_contract_changed(
    tx: asyncpg.Connection, event: ContractChangedV1, envelope: Envelope
) -> None:
    await charges.apply_contract(tx, event, envelope.event_id, envelope.occurred_at)
    # Open-ended, like a link: a contract that now ends earlier leaves days to its successor.
    await run_store.queue_settled(tx, "contract_changed", event.start_date, gsrns=[event.gsrn])


async def on_supply_period_changed(
    tx: asyncpg.Connection, event: SupplyPeriodChangedV1, envelope: Envelope
) -> None:
    await charges.apply_supply_period(tx, event, envelope.event_id, envelope.occurred_at)
    # A settled period may now be settled differently (or not be ours at all); a production
    # point's change shows in the customer's consumption point's settlement.
    gsrns = await supply_periods.gsrns_of_customer(tx, event.customer_id)
    await run_store.queue_recheck(tx, [event.gsrn, *gsrns], "supply_period_changed")


# --- spot import -------------------------------------------------------------------------


@dataclass
class SpotImport:
    """What one import did: ``expected`` market intervals in the range, ``received`` prices,
    how many were new, changed or unchanged, and ``missing`` = expected without a price."""

    price_area: str
    start_utc: str
    end_utc: str
    expected: int
    received: int
    inserted: int
    updated: int
    unchanged: int
    missing: int


@contextlib.asynccontextmanager
async def _transaction(conn_or_db: Database | asyncpg.Connection) -> AsyncIterator[Any]:
    if isinstance(conn_or_db, Database):
        async with conn_or_db.transaction() as tx:
            yield tx
    else:
        # A savepoint inside the caller's transaction, or a transaction of its own.
        async with conn_or_db.transaction():
            yield conn_or_db


async def import_spot(
    conn_or_db: Database | asyncpg.Connection,
    client: EdsClient,
    price_area: str,
    start_utc: datetime,
    end_utc: datetime,
) -> SpotImport:
    """Fetch *price_area*'s day-ahead prices of ``[start_utc, end_utc)`` and upsert them.

    The dataset follows the date (Elspotprices before local 2025-10-01, DayAheadPrices from
    it; a range across the change asks both). Prices not published yet are simply missing
    (counted in ``missing``); a price that changed since the last import is updated and
    recorded in ``spot_price_changes``. Raises :class:`EdsError` if EDS cannot be read.
    """
    fetched: list[tuple[str, list[spot_store.SpotPrice]]] = []
    for dataset, start, end in spot_store.datasets_for(start_utc, end_utc):
        records = await client.records(dataset, price_area, start, end)
        parsed = spot_store.parse_records(records)
        fetched.append(
            (
                f"eds:{dataset.name}",
                [
                    p
                    for p in parsed.prices
                    if p.price_area == price_area and start <= p.start_utc < end
                ],
            )
        )
    total = StoreResult()
    async with _transaction(conn_or_db) as tx:
        for source, found in fetched:
            total.add(await spot_store.store_spot(tx, found, source))
    expected = charge_rules.spot_intervals_between(start_utc, end_utc)
    received = {p.start_utc for _, found in fetched for p in found}
    result = SpotImport(
        price_area=price_area,
        start_utc=format_instant(start_utc),
        end_utc=format_instant(end_utc),
        expected=len(expected),
        received=total.received,
        inserted=total.inserted,
        updated=total.updated,
        unchanged=total.unchanged,
        missing=sum(1 for t in expected if t not in received),
    )
    log.info("spot_imported", **asdict(result))
    return result


async def import_spot_file(
    conn_or_db: Database | asyncpg.Connection, body: bytes, source: str = "file"
) -> dict[str, Any]:
    """Store the prices of an EDS JSON file (either dataset, any areas); raises
    :class:`InvalidSpotFile` for a file that is not EDS's JSON."""
    parsed = spot_store.parse_file(body)
    async with _transaction(conn_or_db) as tx:
        result = await spot_store.store_spot(tx, parsed.prices, source)
    areas = sorted({p.price_area for p in parsed.prices})
    return {
        **asdict(result),
        "price_areas": areas,
        "without_price": parsed.without_price,
        "outside_dataset_days": parsed.outside,
    }


def utc_range(first: date, last: date) -> tuple[datetime, datetime]:
    """Local dates ``first..last`` (inclusive) as a UTC interval."""
    return charge_rules.local_midnight(first), charge_rules.local_midnight(last + timedelta(days=1))


async def import_recent(
    service: SettlementService, client: EdsClient, settings: SettlementSettings | None = None
) -> list[SpotImport]:
    """Import yesterday, today and tomorrow (local, by the service's clock) for each area."""
    settings = settings or service.settings
    today = danish_today(await service.clock.now())
    start, end = utc_range(today - timedelta(days=1), today + timedelta(days=1))
    return [
        await import_spot(service.database, client, area, start, end)
        for area in settings.spot_price_areas
    ]


async def import_days(
    db: Database, settings: SettlementSettings, price_area: str, first: date, last: date
) -> SpotImport:
    """Import *price_area*'s prices of the local dates ``first..last`` (inclusive) from
    Energi Data Service (``EdsError``: it cannot be read; ``InvalidSpotFile``: nonsense)."""
    start, end = utc_range(first, last)
    async with EdsClient(
        settings.eds_base_url, timeout_s=settings.eds_timeout_s, page_size=settings.eds_page_size
    ) as client:
        return await import_spot(db, client, price_area, start, end)


async def list_spot(
    db: Database, price_area: str, first: date, last: date
) -> tuple[int, list[dict[str, Any]]]:
    """The stored prices of the local dates ``first..last`` (inclusive), and how many market
    intervals those days have."""
    start, end = utc_range(first, last)
    async with db.connection() as conn:
        prices = await spot_store.list_spot(conn, price_area, start, end)
    return len(charge_rules.spot_intervals_between(start, end)), prices
