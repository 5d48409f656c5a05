"""Prices and charges: spot prices, DataHub's charges and links, our products.

* Spot prices from Energi Data Service (``Elspotprices`` hourly until the local day
  2025-09-30, ``DayAheadPrices`` 15-minute from 2025-10-01), over HTTP (:func:`import_spot`,
  the periodic :func:`import_job`, ``POST /api/settlement/spot-prices/import``) or from a file
  in EDS's JSON (``POST /api/settlement/spot-prices/upload``); read back with
  ``GET /api/settlement/spot-prices`` and, for the engine, :func:`spot_series`.
* DataHub's charges, prices and links (``datahub.charge.received``,
  ``datahub.charge_link.received``) and portfolio's products, contracts and supply periods:
  consumed here, read for the engine with :func:`charges_for`, :func:`supplier_prices` and
  :func:`supply_periods`. Which charge is which line: :mod:`.domain.charge_rules`.

API dates are Danish local dates and ``to`` is inclusive (``from=2025-01-01&to=2025-01-31``
is January).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field
from wattline_contracts import Envelope
from wattline_contracts.datahub import ChargeLinkReceivedV1, ChargeReceivedV1
from wattline_contracts.portfolio import (
    ContractChangedV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
)
from wattline_platform.business_days import danish_today
from wattline_platform.db import Database
from wattline_platform.inputs import FIRST_DATE, BusinessDate, require_supported_dates
from wattline_platform.logging import get_logger
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_settlement.adapters import charges
from wattline_settlement.adapters import prices as spot_store
from wattline_settlement.adapters import runs as run_store
from wattline_settlement.adapters.charges import (
    ChargeError,
    ConflictingCharges,
    MissingCharges,
    SupplyPeriodPart,
    UnsupportedProduct,
    charges_for,
    supplier_prices,
    supply_periods,
)
from wattline_settlement.adapters.prices import (
    EdsClient,
    EdsError,
    InvalidSpotFile,
    MissingPrices,
    StoreResult,
    spot_series,
)
from wattline_settlement.domain import charge_rules
from wattline_settlement.settings import (
    PriceArea,
    SettlementDep,
    SettlementService,
    SettlementSettings,
)

__all__ = [
    "ROUTES",
    "ChargeError",
    "ConflictingCharges",
    "EdsClient",
    "MissingCharges",
    "MissingPrices",
    "SpotImport",
    "SupplyPeriodPart",
    "UnsupportedProduct",
    "charges_for",
    "import_job",
    "import_recent",
    "import_spot",
    "import_spot_file",
    "register",
    "spot_series",
    "supplier_prices",
    "supply_periods",
]

log = get_logger(__name__)

MAX_API_DAYS = 366


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
    gsrns = await tx.fetch(
        "SELECT DISTINCT gsrn FROM supply_periods WHERE customer_id = $1", event.customer_id
    )
    await run_store.queue_recheck(
        tx, [event.gsrn, *(r["gsrn"] for r in gsrns)], "supply_period_changed"
    )


def register(service: SettlementService) -> None:
    """Subscribe the price and charge handlers."""
    assert service.consumer is not None
    on = service.consumer.on
    on(ChargeReceivedV1)(on_charge_received)
    on(ChargeLinkReceivedV1)(on_charge_link_received)
    on(ProductVersionPublishedV1)(on_product_version_published)
    on(ContractChangedV1)(on_contract_changed)
    on(SupplyPeriodChangedV1)(on_supply_period_changed)


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
        start_utc=charge_rules.fmt_utc(start_utc),
        end_utc=charge_rules.fmt_utc(end_utc),
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


def _utc_range(first: date, last: date) -> tuple[datetime, datetime]:
    """Local dates ``first..last`` (inclusive) as a UTC interval."""
    return charge_rules.local_midnight(first), charge_rules.local_midnight(last + timedelta(days=1))


async def import_recent(
    service: SettlementService, client: EdsClient, settings: SettlementSettings | None = None
) -> list[SpotImport]:
    """Import yesterday, today and tomorrow (local, by the service's clock) for each area."""
    settings = settings or service.settings
    today = danish_today(await service.clock.now())
    start, end = _utc_range(today - timedelta(days=1), today + timedelta(days=1))
    return [
        await import_spot(service.database, client, area, start, end)
        for area in settings.spot_price_areas
    ]


async def import_job(
    service: SettlementService, settings: SettlementSettings | None = None
) -> None:
    """Background job: every ``spot_import_interval_s``, import yesterday..tomorrow.

    Tomorrow's prices appear around 13:00 the day before; until then they count as missing
    and the next round fetches them. A failed round is logged and retried next round.
    """
    settings = settings or service.settings
    async with EdsClient(
        settings.eds_base_url, timeout_s=settings.eds_timeout_s, page_size=settings.eds_page_size
    ) as client:
        while True:
            try:
                await import_recent(service, client, settings)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("spot_import_failed", error=f"{type(exc).__name__}: {exc}"[:500])
            await asyncio.sleep(settings.spot_import_interval_s)


# --- API ---------------------------------------------------------------------------------


# The responses are msgspec structs: they carry the keys ``from`` and ``to`` (a Python keyword),
# which a struct renames in its body and its schema alike (a pydantic alias is used by neither:
# the app dumps and documents models by field name).


class SpotImportOut(msgspec.Struct, frozen=True, rename={"from_date": "from", "to_date": "to"}):
    """What an import from Energi Data Service did (see :class:`SpotImport`)."""

    from_date: str
    to_date: str
    price_area: str
    start_utc: str
    end_utc: str
    expected: int
    received: int
    inserted: int
    updated: int
    unchanged: int
    missing: int


class SpotFileImportOut(msgspec.Struct, frozen=True):
    """What storing an EDS JSON file did: its prices received and how many were new, changed
    or unchanged, its price areas, and the records skipped (no price yet, other dataset's
    days)."""

    received: int
    inserted: int
    updated: int
    unchanged: int
    price_areas: list[str]
    without_price: int
    outside_dataset_days: int


class SpotPriceOut(msgspec.Struct, frozen=True):
    start: str
    resolution: str
    dkk_per_kwh: str
    source: str


class SpotPricesOut(msgspec.Struct, frozen=True, rename={"from_date": "from", "to_date": "to"}):
    price_area: str
    from_date: str
    to_date: str
    expected: int
    count: int
    prices: list[SpotPriceOut]


class SpotImportIn(BaseModel):
    """Import *price_area*'s prices of the local dates ``from``..``to`` (inclusive)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    price_area: PriceArea
    from_date: BusinessDate = Field(alias="from")
    to_date: BusinessDate = Field(alias="to")


def _check_range(first: date, last: date) -> None:
    require_supported_dates(first, last)
    if last < first:
        raise Problem(400, "invalid-date-range", "to is before from", f"{first}..{last}")
    if (last - first).days + 1 > MAX_API_DAYS:
        raise Problem(
            400, "invalid-date-range", f"At most {MAX_API_DAYS} days at once", f"{first}..{last}"
        )


class SpotPriceController(Controller):
    path = "/api/settlement/spot-prices"
    tags = ["settlement"]

    @post("/import", status_code=200, summary="Import day-ahead prices from Energi Data Service")
    async def import_(self, data: JSONBody[SpotImportIn], service: SettlementDep) -> SpotImportOut:
        _check_range(data.from_date, data.to_date)
        settings = service.settings
        start, end = _utc_range(data.from_date, data.to_date)
        try:
            async with EdsClient(
                settings.eds_base_url,
                timeout_s=settings.eds_timeout_s,
                page_size=settings.eds_page_size,
            ) as client:
                result = await import_spot(service.database, client, data.price_area, start, end)
        except EdsError as exc:
            raise Problem(
                502, "spot-source-unavailable", "Energi Data Service could not be read", str(exc)
            ) from None
        except InvalidSpotFile as exc:
            raise Problem(
                502, "spot-source-invalid", "Energi Data Service answered nonsense", str(exc)
            ) from None
        return SpotImportOut(
            from_date=data.from_date.isoformat(), to_date=data.to_date.isoformat(), **asdict(result)
        )

    @post("/upload", status_code=200, summary="Store day-ahead prices from an EDS JSON file")
    async def upload(
        self, request: Request[Any, Any, Any], service: ServiceDep
    ) -> SpotFileImportOut:
        body = await request.body()
        try:
            return SpotFileImportOut(
                **await import_spot_file(service.database, body, source="upload")
            )
        except InvalidSpotFile as exc:
            raise Problem(400, "invalid-spot-file", "Not a spot price file", str(exc)) from None

    @get("/", summary="Stored day-ahead prices (DKK/kWh) of local dates from..to (inclusive)")
    async def list_prices(
        self,
        service: ServiceDep,
        price_area: FromQuery[PriceArea],
        from_date: Annotated[date, QueryParameter(name="from")],
        to_date: Annotated[date, QueryParameter(name="to")],
    ) -> SpotPricesOut:
        _check_range(from_date, to_date)
        start, end = _utc_range(from_date, to_date)
        async with service.database.connection() as conn:
            prices = await spot_store.list_spot(conn, price_area, start, end)
        expected = charge_rules.spot_intervals_between(start, end)
        return SpotPricesOut(
            price_area=price_area,
            from_date=from_date.isoformat(),
            to_date=to_date.isoformat(),
            expected=len(expected),
            count=len(prices),
            prices=[SpotPriceOut(**p) for p in prices],
        )


ROUTES: list[Any] = [SpotPriceController]
