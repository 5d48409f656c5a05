"""Prices and charges for the engine: spot prices from Energi Data Service (the simulator over
real HTTP), DataHub's charges and links, and our products, contracts and supply periods, all fed
as the consumer feeds them and read back as the engine's input."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from wattline_contracts import Envelope, Event
from wattline_contracts.datahub import ChargeLinkReceivedV1, ChargeReceivedV1, PriceSeriesV1
from wattline_contracts.portfolio import (
    ContractChangedV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
)
from wattline_platform.db import Database
from wattline_platform.service import Service
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app
from wattline_settlement import consumers, pricing_api
from wattline_settlement.adapters import charges as charge_store
from wattline_settlement.adapters import prices as spot_store
from wattline_settlement.bootstrap import SPEC
from wattline_settlement.domain import charge_rules
from wattline_settlement.domain.model import Period, PriceVersion, TariffVersion
from wattline_settlement.handlers import pricing
from wattline_settlement.jobs import spot_import
from wattline_settlement.settings import SettlementSettings
from wattline_simulator.bootstrap import SPEC as SIM_SPEC
from wattline_simulator.bootstrap import build as build_simulator
from wattline_simulator.domain import charges as sim_charges
from wattline_simulator.domain.market import local_day_bounds
from wattline_simulator.settings import SimulatorSettings

GSRN = "571313100000012345"
OTHER_GSRN = "571313100000054321"
GRID_OWNER = sim_charges.GRID_COMPANY_GLN["344"]
ENERGINET = sim_charges.ENERGINET_GLN
JANUARY = Period(date(2025, 1, 1), date(2025, 2, 1))


def d(text: str) -> Decimal:
    return Decimal(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.value = now

    async def now(self) -> datetime:
        return self.value


@dataclass
class Rig:
    service: Service
    db: Database
    eds_url: str
    eds: spot_store.EdsClient
    api: httpx.AsyncClient

    async def deliver(self, event: Event, *, occurred_at: datetime | None = None) -> None:
        """As the consumer does: the registered handler, inside a transaction."""
        assert self.service.consumer is not None
        _, handler = self.service.consumer.routes[(event.TYPE, event.VERSION)]
        envelope = Envelope.wrap(
            event, key="k", producer="test", correlation_id="test", occurred_at=occurred_at
        )
        async with self.db.transaction() as tx:
            await handler(tx, event, envelope)

    async def spot_rows(self, area: str) -> dict[datetime, Decimal]:
        rows = await self.db.fetch(
            "SELECT start_utc, dkk_per_kwh FROM spot_prices WHERE price_area = $1", area
        )
        return {r["start_utc"]: r["dkk_per_kwh"] for r in rows}


@pytest.fixture
async def rig(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[Rig]:
    simulator = build_simulator(SimulatorSettings(database_url=postgres_dsn))
    simulator.db = await make_schema_db(SIM_SPEC.migrations_dir)  # its own random schema
    service = Service(SPEC, SettlementSettings(database_url=postgres_dsn))
    service.db = await make_schema_db(SPEC.migrations_dir)
    service.uses_broker = False
    service.route_handlers.extend(pricing_api.ROUTES)
    consumers.register(service)
    async with serve_app(simulator.app()) as eds_url:
        service.settings.eds_base_url = eds_url
        async with (
            spot_store.EdsClient(eds_url) as eds,
            serve_app(service.app()) as url,
            httpx.AsyncClient(base_url=url, timeout=30, auth=identity_auth()) as api,
        ):
            yield Rig(service, service.db, eds_url, eds, api)


def local_range(first: date, last: date) -> tuple[datetime, datetime]:
    return charge_rules.local_midnight(first), charge_rules.local_midnight(last + timedelta(days=1))


# --- spot prices -------------------------------------------------------------------------


async def test_spot_prices_come_from_eds_over_http_exactly_in_dkk_per_kwh(rig: Rig) -> None:
    # Given EDS's hourly prices of 14 January and 10 March 2025 and the spring-forward day
    start, end = local_range(date(2025, 1, 14), date(2025, 1, 14))
    result = await pricing.import_spot(rig.db, rig.eds, "DK1", start, end)
    assert (result.expected, result.received, result.inserted, result.missing) == (24, 24, 24, 0)
    march = await pricing.import_spot(
        rig.db, rig.eds, "DK1", *local_range(date(2025, 3, 10), date(2025, 3, 10))
    )
    spring = await pricing.import_spot(
        rig.db, rig.eds, "DK1", *local_range(date(2025, 3, 30), date(2025, 3, 30))
    )
    assert (march.inserted, spring.expected, spring.inserted) == (24, 23, 23)

    # Then each DKK/MWh price is stored ÷ 1000 without losing a decimal (6 → 9 decimals)
    rows = await rig.spot_rows("DK1")
    assert rows[utc("2025-01-14T09:00")] == d("0.69152002")  # SpotPriceDKK 691.52002
    assert rows[utc("2025-03-10T09:00")] == d("0.657360252")  # SpotPriceDKK 657.360252
    assert str(rows[utc("2025-03-10T09:00")]) == "0.657360252"
    raw = await rig.eds.records(spot_store.ELSPOTPRICES, "DK1", start, end)
    assert {utc(r["HourUTC"]): r["SpotPriceDKK"].scaleb(-3) for r in raw} == {
        t: p for t, p in rows.items() if start <= t < end
    }

    # When the same range is imported again, nothing changes
    again = await pricing.import_spot(rig.db, rig.eds, "DK1", start, end)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 24)

    # When a stored price differs from what EDS publishes, the import corrects and records it
    await rig.db.execute(
        "UPDATE spot_prices SET dkk_per_kwh = 0.5 WHERE price_area = 'DK1' AND start_utc = $1",
        utc("2025-01-14T09:00"),
    )
    fixed = await pricing.import_spot(rig.db, rig.eds, "DK1", start, end)
    assert (fixed.updated, fixed.unchanged) == (1, 23)
    change = await rig.db.fetchrow("SELECT * FROM spot_price_changes")
    assert change is not None
    assert (change["start_utc"], change["old_dkk_per_kwh"], change["new_dkk_per_kwh"]) == (
        utc("2025-01-14T09:00"),
        d("0.5"),
        d("0.69152002"),
    )
    assert change["source"] == "eds:Elspotprices"

    # And the engine gets the 23 hours of the spring-forward day
    async with rig.db.connection() as conn:
        series = await spot_store.spot_series(
            conn, "DK1", Period(date(2025, 3, 30), date(2025, 3, 31))
        )
    assert (series.resolution, series.start, len(series.values)) == (
        "PT1H",
        utc("2025-03-29T23:00"),
        23,
    )


async def test_a_period_across_the_switch_to_quarter_hours_is_read_as_quarters(rig: Rig) -> None:
    # Given DK2's prices of 30 September (hourly, Elspotprices) and 1 October (DayAheadPrices)
    result = await pricing.import_spot(
        rig.db, rig.eds, "DK2", *local_range(date(2025, 9, 30), date(2025, 10, 1))
    )
    assert (result.expected, result.inserted, result.missing) == (24 + 96, 120, 0)
    rows = await rig.db.fetch(
        "SELECT resolution, count(*) AS n FROM spot_prices GROUP BY resolution ORDER BY 1"
    )
    assert [(r["resolution"], r["n"]) for r in rows] == [("PT15M", 96), ("PT1H", 24)]

    # When the engine asks for both days
    async with rig.db.connection() as conn:
        series = await spot_store.spot_series(
            conn, "DK2", Period(date(2025, 9, 30), date(2025, 10, 2))
        )

    # Then it gets quarters: each hour of 30 September on its four quarters, then 1 October's
    assert (series.resolution, series.start, len(series.values)) == (
        "PT15M",
        utc("2025-09-29T22:00"),
        192,
    )
    assert series.values[:5] == (d("0.457975539"),) * 4 + (series.values[4],)
    assert series.values[96:100] == (
        d("0.668591304"),
        d("0.720405639"),
        d("0.684992964"),
        d("0.689391591"),
    )
    # September alone stays hourly
    async with rig.db.connection() as conn:
        hourly = await spot_store.spot_series(
            conn, "DK2", Period(date(2025, 9, 30), date(2025, 10, 1))
        )
    assert (hourly.resolution, len(hourly.values)) == ("PT1H", 24)


async def test_a_missing_hour_blocks_with_the_area_and_the_hour(rig: Rig) -> None:
    await pricing.import_spot(
        rig.db, rig.eds, "DK1", *local_range(date(2025, 1, 14), date(2025, 1, 15))
    )
    await rig.db.execute(
        "DELETE FROM spot_prices WHERE start_utc IN ($1, $2, $3)",
        utc("2025-01-14T09:00"),
        utc("2025-01-14T10:00"),
        utc("2025-01-15T20:00"),
    )
    async with rig.db.connection() as conn:
        with pytest.raises(charge_rules.MissingPrices) as caught:
            await spot_store.spot_series(conn, "DK1", Period(date(2025, 1, 14), date(2025, 1, 16)))
        # Prices of another area never fill the gap
        with pytest.raises(
            charge_rules.MissingPrices, match="DK2 spot prices missing for 48 of 48"
        ):
            await spot_store.spot_series(conn, "DK2", Period(date(2025, 1, 14), date(2025, 1, 16)))
    assert str(caught.value) == (
        "DK1 spot prices missing for 3 of 48 intervals of 2025-01-14..2025-01-16 "
        "(end exclusive): 2025-01-14T09:00Z..2025-01-14T10:00Z (2 intervals), 2025-01-15T20:00Z"
    )
    assert caught.value.missing[0] == utc("2025-01-14T09:00")


async def test_spot_api_upload_import_and_read(rig: Rig) -> None:
    # Given an EDS file of DK1's quarter-hour prices of 5 October 2025 (as EDS answers it)
    response = await rig.eds._client.get(
        f"{rig.eds_url}/dataset/DayAheadPrices",
        params={"start": "2025-10-05", "end": "2025-10-06", "filter": '{"PriceArea":["DK1"]}'},
    )
    body = response.content
    assert json.loads(body)["total"] == 96

    # When it is uploaded, the 96 prices are stored; uploading it twice changes nothing
    first = await rig.api.post("/api/settlement/spot-prices/upload", content=body)
    assert first.status_code == 200, first.text
    assert first.json()["inserted"] == 96
    second = await rig.api.post("/api/settlement/spot-prices/upload", content=body)
    assert (second.json()["inserted"], second.json()["unchanged"]) == (0, 96)

    # And they read back in DKK/kWh
    read = await rig.api.get(
        "/api/settlement/spot-prices",
        params={"price_area": "DK1", "from": "2025-10-05", "to": "2025-10-05"},
    )
    assert read.status_code == 200, read.text
    prices = read.json()
    assert (prices["expected"], prices["count"]) == (96, 96)
    quarter = next(p for p in prices["prices"] if p["start"] == "2025-10-05T09:15Z")
    assert quarter == {
        "start": "2025-10-05T09:15Z",
        "resolution": "PT15M",
        "dkk_per_kwh": "0.571688832",  # DayAheadPriceDKK 571.688832
        "source": "upload",
    }

    # When DK2's 3-4 October are imported through the API (to is inclusive)
    imported = await rig.api.post(
        "/api/settlement/spot-prices/import",
        json={"price_area": "DK2", "from": "2025-10-03", "to": "2025-10-04"},
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["inserted"], imported.json()["start_utc"]) == (192, "2025-10-02T22:00Z")

    # Bad input is a problem document
    bad = await rig.api.post("/api/settlement/spot-prices/upload", content=b'{"rows": []}')
    assert bad.status_code == 400
    assert bad.json()["type"].endswith("/invalid-spot-file")
    backwards = await rig.api.post(
        "/api/settlement/spot-prices/import",
        json={"price_area": "DK1", "from": "2025-10-04", "to": "2025-10-03"},
    )
    assert backwards.status_code == 400


async def test_the_job_imports_yesterday_to_tomorrow(rig: Rig) -> None:
    rig.service.clock = FixedClock(utc("2025-10-01T10:00"))  # local noon, 1 October
    results = await pricing.import_recent(rig.service, rig.eds)
    assert [(r.price_area, r.expected, r.inserted) for r in results] == [
        ("DK1", 24 + 96 + 96, 216),
        ("DK2", 24 + 96 + 96, 216),
    ]

    # The background job does the same every round: a day later, 2 October's 96 quarters
    # per area are new and the rest unchanged
    rig.service.clock = FixedClock(utc("2025-10-02T10:00"))
    settings = SettlementSettings(eds_base_url=rig.eds_url, spot_import_interval_s=0.05)
    job = asyncio.create_task(spot_import.import_job(rig.service, settings))
    try:
        for _ in range(200):
            if await rig.db.fetchval("SELECT count(*) FROM spot_prices") == 2 * (216 + 96):
                break
            await asyncio.sleep(0.05)
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
    assert await rig.db.fetchval("SELECT count(*) FROM spot_prices") == 2 * (216 + 96)


# --- charges -------------------------------------------------------------------------------


def _message_id() -> str:
    return str(uuid.uuid4())


def charge_information(
    charge: sim_charges.ChargeDef, start: date, *, tax: bool = False
) -> ChargeReceivedV1:
    """RSM-034 D18 as the simulator sends it (charge master data, no prices)."""
    return ChargeReceivedV1(
        datahub_message_id=_message_id(),
        process_type="D18",
        owner_gln=charge.owner_gln,
        charge_type=charge.charge_type,
        charge_id=charge.charge_id,
        name=charge.name,
        description=charge.description,
        resolution=charge.resolution,
        effective_date=local_day_bounds(start)[0],
        vat_payer="D02",
        transparent_invoicing=charge.transparent_invoicing,
        tax_indicator=tax,
    )


def charge_prices(
    charge: sim_charges.ChargeDef, day: date, prices: list[Decimal]
) -> ChargeReceivedV1:
    """RSM-034 D08: prices from *day* (a day's hourly positions in UTC order, or P1M)."""
    start, end = local_day_bounds(day)
    resolution = "P1M" if charge.charge_type == "D01" else "PT1H"
    if resolution == "P1M":
        end = sim_charges.month_later(start)
    return ChargeReceivedV1(
        datahub_message_id=_message_id(),
        process_type="D08",
        owner_gln=charge.owner_gln,
        charge_type=charge.charge_type,
        charge_id=charge.charge_id,
        effective_date=start,
        price_series=[PriceSeriesV1(resolution=resolution, start=start, end=end, prices=prices)],
    )


def link(
    charge: sim_charges.ChargeDef, start: date, *, factor: int = 1, gsrn: str = GSRN
) -> ChargeLinkReceivedV1:
    return ChargeLinkReceivedV1(
        datahub_message_id=_message_id(),
        transaction_id=_message_id(),
        gsrn=gsrn,
        owner_gln=charge.owner_gln,
        charge_type=charge.charge_type,
        charge_id=charge.charge_id,
        factor=factor,
        start=local_day_bounds(start)[0],
    )


GRID_TARIFF, GRID_SUBSCRIPTION = sim_charges.grid_charges("344")
TRANSMISSION, SYSTEM, ELAFGIFT = sim_charges.ENERGINET_CHARGES


async def given_the_simulators_charges(rig: Rig, first_day: date) -> None:
    """Every charge the simulator sends on its first day (the electricity tax at its 2025 rate
    of 72.0 øre/kWh), all linked to GSRN from *first_day*."""
    for charge in (GRID_TARIFF, GRID_SUBSCRIPTION, TRANSMISSION, SYSTEM):
        await rig.deliver(charge_information(charge, first_day))
    await rig.deliver(charge_information(ELAFGIFT, first_day, tax=True))
    for charge in (GRID_TARIFF, TRANSMISSION, SYSTEM):
        await rig.deliver(
            charge_prices(charge, first_day, sim_charges.hourly_prices(charge, first_day))
        )
    await rig.deliver(
        charge_prices(GRID_SUBSCRIPTION, first_day, [sim_charges.GRID_SUBSCRIPTION_DKK_PER_MONTH])
    )
    hours = len(sim_charges.local_hours(first_day))
    await rig.deliver(charge_prices(ELAFGIFT, first_day, [d("0.720")] * hours))
    for charge in (GRID_TARIFF, GRID_SUBSCRIPTION, TRANSMISSION, SYSTEM, ELAFGIFT):
        await rig.deliver(link(charge, first_day))


WINTER = (d("0.1302"),) * 6 + (d("0.3906"),) * 11 + (d("1.1718"),) * 4 + (d("0.3906"),) * 3


async def test_charges_from_datahub_events_with_a_tariff_change_mid_month(rig: Rig) -> None:
    # Given the simulator's charges from 1 January 2025
    await given_the_simulators_charges(rig, date(2025, 1, 1))
    # And the grid company's new tariff from 16 January: peak 17-21 up to 1.2500 DKK/kWh
    new = [d("1.2500") if 17 <= h < 21 else p for h, p in zip(range(24), WINTER, strict=True)]
    await rig.deliver(charge_prices(GRID_TARIFF, date(2025, 1, 16), new))

    # When the engine asks for January
    async with rig.db.connection() as conn:
        charges = await charge_store.charges_for(
            conn, GSRN, JANUARY, (PriceVersion(date(2025, 1, 1), d("0.05")),), ()
        )

    # Then the grid tariff has two versions of 24 local-hour positions
    assert charges.grid_tariff == (
        TariffVersion(date(2025, 1, 1), hourly=WINTER),
        TariffVersion(date(2025, 1, 16), hourly=tuple(new)),
    )
    assert charges.grid_tariff[0].hourly is not None
    assert charges.grid_tariff[0].hourly[17] == d("1.1718")  # position 18: local 17:00-18:00
    assert charges.system_tariff == (PriceVersion(date(2025, 1, 1), d("0.051")),)
    assert charges.transmission_tariff == (PriceVersion(date(2025, 1, 1), d("0.074")),)
    assert charges.electricity_tax == (PriceVersion(date(2025, 1, 1), d("0.720")),)
    assert charges.grid_subscription == (PriceVersion(date(2025, 1, 1), d("21.25")),)
    assert charges.supplier_margin == (PriceVersion(date(2025, 1, 1), d("0.05")),)

    # And a period starting after the change sees the new version from its first day
    async with rig.db.connection() as conn:
        late = await charge_store.charges_for(
            conn, GSRN, Period(date(2025, 1, 20), date(2025, 2, 1)), (), ()
        )
    assert late.grid_tariff == (TariffVersion(date(2025, 1, 20), hourly=tuple(new)),)

    # A re-sent price list for 16 January replaces that version, it does not add one
    await rig.deliver(charge_prices(GRID_TARIFF, date(2025, 1, 16), new))
    count = await rig.db.fetchval(
        "SELECT count(*) FROM charge_prices WHERE charge_id = 'NT-C-TIME'"
    )
    assert count == 2


async def test_a_second_grid_tariff_and_factors_add_up(rig: Rig) -> None:
    await given_the_simulators_charges(rig, date(2025, 1, 1))
    # A second tariff of the grid company, flat 0.0150 DKK/kWh, linked from 10 January
    extra = sim_charges.ChargeDef(GRID_OWNER, "D03", "NT-EXTRA", "Extra", "Extra", "P1D", False)
    await rig.deliver(charge_information(extra, date(2025, 1, 10)))
    start, end = local_day_bounds(date(2025, 1, 10))
    await rig.deliver(
        ChargeReceivedV1(
            datahub_message_id=_message_id(),
            process_type="D08",
            owner_gln=GRID_OWNER,
            charge_type="D03",
            charge_id="NT-EXTRA",
            price_series=[
                PriceSeriesV1(resolution="P1D", start=start, end=end, prices=[d("0.0150")])
            ],
        )
    )
    await rig.deliver(link(extra, date(2025, 1, 10)))
    # Two subscriptions from 20 January (a new link with factor 2 supersedes the old one)
    await rig.deliver(link(GRID_SUBSCRIPTION, date(2025, 1, 20), factor=2))

    async with rig.db.connection() as conn:
        charges = await charge_store.charges_for(conn, GSRN, JANUARY, (), ())

    assert charges.grid_tariff == (
        TariffVersion(date(2025, 1, 1), hourly=WINTER),
        TariffVersion(date(2025, 1, 10), hourly=tuple(p + d("0.0150") for p in WINTER)),
    )
    assert charges.grid_subscription == (
        PriceVersion(date(2025, 1, 1), d("21.25")),
        PriceVersion(date(2025, 1, 20), d("42.50")),
    )


async def test_missing_charges_are_named(rig: Rig) -> None:
    for charge in (GRID_TARIFF, TRANSMISSION, SYSTEM):
        await rig.deliver(charge_information(charge, date(2025, 1, 1)))
        await rig.deliver(
            charge_prices(
                charge, date(2025, 1, 1), sim_charges.hourly_prices(charge, date(2025, 1, 1))
            )
        )
        await rig.deliver(link(charge, date(2025, 1, 1)))
    # The grid subscription is linked, but its price list only starts on 10 January
    await rig.deliver(link(GRID_SUBSCRIPTION, date(2025, 1, 1)))
    await rig.deliver(
        charge_prices(
            GRID_SUBSCRIPTION, date(2025, 1, 10), [sim_charges.GRID_SUBSCRIPTION_DKK_PER_MONTH]
        )
    )
    async with rig.db.connection() as conn:
        with pytest.raises(charge_rules.MissingCharges) as caught:
            await charge_store.charges_for(conn, GSRN, JANUARY, (), ())
    assert str(caught.value) == (
        "charges missing for 2025-01-01..2025-02-01 (end exclusive): "
        "electricity_tax: no linked charge (31 days from 2025-01-01); "
        f"grid_subscription: no price for D01 NT-ABON of {GRID_OWNER} (9 days from 2025-01-01)"
    )


async def test_a_tariff_first_priced_on_the_spring_forward_day(rig: Rig) -> None:
    # DataHub's price list of 30 March has 23 hourly positions: local hour 02 has no price
    await given_the_simulators_charges(rig, date(2025, 3, 30))
    async with rig.db.connection() as conn:
        # The 23-hour day itself settles (position 3 is not used on it) ...
        spring = await charge_store.charges_for(
            conn, GSRN, Period(date(2025, 3, 30), date(2025, 3, 31)), (), ()
        )
        assert spring.grid_tariff[0].hourly == WINTER
        # ... but a 24-hour day needs local hour 02, which no series has priced yet
        with pytest.raises(
            charge_rules.MissingCharges, match="no price for local hour 02 of D03 NT-C-TIME"
        ):
            await charge_store.charges_for(
                conn, GSRN, Period(date(2025, 3, 30), date(2025, 4, 1)), (), ()
            )
    # The summer prices of 1 April (24 positions) price every hour again
    await rig.deliver(
        charge_prices(
            GRID_TARIFF, date(2025, 4, 1), sim_charges.hourly_prices(GRID_TARIFF, date(2025, 4, 1))
        )
    )
    async with rig.db.connection() as conn:
        april = await charge_store.charges_for(
            conn, GSRN, Period(date(2025, 4, 1), date(2025, 5, 1)), (), ()
        )
    assert april.grid_tariff[0].hourly is not None
    assert april.grid_tariff[0].hourly[17:21] == (d("0.5078"),) * 4


# --- our products, contracts and supply periods ------------------------------------------


PRODUCT = str(uuid.uuid5(uuid.NAMESPACE_URL, "wattline:product:Spot"))
FIXED = str(uuid.uuid5(uuid.NAMESPACE_URL, "wattline:product:Fast"))
CUSTOMER = str(uuid.uuid4())


def product(
    version: int, margin: str, subscription: str, valid_from: date, **kw: Any
) -> ProductVersionPublishedV1:
    return ProductVersionPublishedV1(
        product_id=kw.pop("product_id", PRODUCT),
        version=version,
        name="Spot",
        price_type=kw.pop("price_type", "spot"),
        margin_dkk_per_kwh=d(margin),
        subscription_dkk_per_month=d(subscription),
        green_energy=False,
        valid_from=valid_from,
        **kw,
    )


def contract(
    contract_id: str, version: int, start: date, end: date | None, product_id: str = PRODUCT
) -> ContractChangedV1:
    return ContractChangedV1(
        contract_id=contract_id,
        gsrn=GSRN,
        customer_id=CUSTOMER,
        product_id=product_id,
        product_version=version,
        start_date=start,
        end_date=end,
        billing_frequency="monthly",
        payment_model="arrears",
    )


async def test_supplier_prices_follow_the_contracts_across_a_product_change(rig: Rig) -> None:
    # Given product versions 1 (margin 4.5 øre, 29 DKK/month) and 2 (margin 6.25 øre, 39 DKK)
    await rig.deliver(product(1, "0.045", "29.00", date(2024, 1, 1)))
    await rig.deliver(product(2, "0.0625", "39.00", date(2025, 1, 1)))
    # And a contract on version 1 that changes to version 2 from 16 January
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await rig.deliver(contract(first, 1, date(2024, 11, 1), None))
    await rig.deliver(contract(first, 1, date(2024, 11, 1), date(2025, 1, 16)))
    await rig.deliver(contract(second, 2, date(2025, 1, 16), None))

    async with rig.db.connection() as conn:
        margin, subscription, fixed = await charge_store.supplier_prices(conn, GSRN, JANUARY)
        used = await charge_store.products_used(conn, GSRN, JANUARY)
    assert margin == (
        PriceVersion(date(2025, 1, 1), d("0.045")),
        PriceVersion(date(2025, 1, 16), d("0.0625")),
    )
    assert subscription == (
        PriceVersion(date(2025, 1, 1), d("29.00")),
        PriceVersion(date(2025, 1, 16), d("39.00")),
    )
    assert fixed == ()
    assert [(r["product_version"], r["start_date"], r["end_date"]) for r in used] == [
        (1, date(2025, 1, 1), date(2025, 1, 16)),
        (2, date(2025, 1, 16), date(2025, 2, 1)),
    ]

    # A stale state of the first contract (older than the one stored) changes nothing
    await rig.deliver(
        contract(first, 1, date(2024, 11, 1), None), occurred_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    async with rig.db.connection() as conn:
        assert (await charge_store.supplier_prices(conn, GSRN, JANUARY))[0] == margin
        # Days before the first contract have no supplier price
        with pytest.raises(
            charge_rules.MissingCharges, match=re.escape("no contract for 2024-10-01..2024-11-01")
        ):
            await charge_store.supplier_prices(
                conn, GSRN, Period(date(2024, 10, 1), date(2024, 12, 1))
            )

    # A fixed-price product from 16 January: its price replaces the margin from then on
    await rig.deliver(
        product(
            1,
            "0",
            "19.00",
            date(2025, 1, 1),
            product_id=FIXED,
            price_type="fixed",
            fixed_price_dkk_per_kwh=d("1.95"),
        )
    )
    await rig.deliver(contract(second, 1, date(2025, 1, 16), None, product_id=FIXED))
    async with rig.db.connection() as conn:
        assert await charge_store.supplier_prices(conn, GSRN, JANUARY) == (
            (PriceVersion(date(2025, 1, 1), d("0.045")),),
            (
                PriceVersion(date(2025, 1, 1), d("29.00")),
                PriceVersion(date(2025, 1, 16), d("19.00")),
            ),
            (PriceVersion(date(2025, 1, 16), d("1.95")),),
        )
        february = Period(date(2025, 2, 1), date(2025, 3, 1))
        assert await charge_store.supplier_prices(conn, GSRN, february) == (
            (),
            (PriceVersion(date(2025, 2, 1), d("19.00")),),
            (PriceVersion(date(2025, 2, 1), d("1.95")),),
        )


async def test_supply_periods_are_clipped_and_rolled_back_ones_left_out(rig: Rig) -> None:
    ended, current, void = (str(uuid.uuid4()) for _ in range(3))

    def period(
        pid: str, gsrn: str, start: date, end: date | None, reason: str
    ) -> SupplyPeriodChangedV1:
        return SupplyPeriodChangedV1(
            supply_period_id=pid,
            gsrn=gsrn,
            customer_id=CUSTOMER,
            start_date=start,
            end_date=end,
            reason=reason,
        )

    await rig.deliver(period(ended, GSRN, date(2024, 12, 15), None, "started"))
    await rig.deliver(period(ended, GSRN, date(2024, 12, 15), date(2025, 1, 10), "ended"))
    await rig.deliver(period(current, GSRN, date(2025, 1, 10), None, "started"))
    await rig.deliver(period(void, OTHER_GSRN, date(2025, 1, 5), None, "started"))
    await rig.deliver(period(void, OTHER_GSRN, date(2025, 1, 5), date(2025, 1, 5), "rolled_back"))

    async with rig.db.connection() as conn:
        parts = await charge_store.supply_periods(conn, None, JANUARY)
        mine = await charge_store.supply_periods(
            conn, GSRN, Period(date(2025, 1, 10), date(2025, 2, 1))
        )
    assert [(p.supply_period_id, p.gsrn, p.period) for p in parts] == [
        (ended, GSRN, Period(date(2025, 1, 1), date(2025, 1, 10))),
        (current, GSRN, Period(date(2025, 1, 10), date(2025, 2, 1))),
    ]
    assert parts[0].start_date == date(2024, 12, 15)
    assert [p.supply_period_id for p in mine] == [current]

    # A later roll-back of the current period removes it too
    await rig.deliver(period(current, GSRN, date(2025, 1, 10), date(2025, 1, 10), "rolled_back"))
    async with rig.db.connection() as conn:
        assert [
            p.supply_period_id for p in await charge_store.supply_periods(conn, GSRN, JANUARY)
        ] == [ended]


# --- the pure rules ------------------------------------------------------------------------------


def test_an_autumn_day_price_list_becomes_24_local_hours() -> None:
    start, end = local_day_bounds(date(2025, 10, 26))
    prices = sim_charges.hourly_prices(GRID_TARIFF, date(2025, 10, 26))
    assert len(prices) == 25
    first, after, versions = charge_rules.prices_from_series("PT1H", start, end, prices)
    assert (first, after) == (date(2025, 10, 26), date(2025, 10, 27))
    assert versions == [charge_rules.ChargePrice(date(2025, 10, 26), hourly=WINTER)]


def test_a_monthly_series_gives_a_price_per_month() -> None:
    start = local_day_bounds(date(2025, 1, 15))[0]
    end = local_day_bounds(date(2025, 3, 15))[0]
    _, after, versions = charge_rules.prices_from_series("P1M", start, end, [d("21.25"), d("23")])
    assert after == date(2025, 3, 15)
    assert [(v.valid_from, v.flat) for v in versions] == [
        (date(2025, 1, 15), d("21.25")),
        (date(2025, 2, 15), d("23")),
    ]
    with pytest.raises(charge_rules.InvalidPriceSeries):
        charge_rules.prices_from_series("P1M", start, end, [d("21.25")])


def test_an_unknown_energinet_charge_is_refused() -> None:
    key = charge_rules.ChargeKey(ENERGINET, "D03", "45013")
    info = charge_rules.ChargeInfo(key, tax_indicator=False)
    with pytest.raises(charge_rules.ConflictingCharges, match="has no line in the settlement"):
        charge_rules.charge_role(key, info)
    with pytest.raises(charge_rules.MissingCharges, match="charge information"):
        charge_rules.charge_role(key, None)
    assert (
        charge_rules.charge_role(charge_rules.ChargeKey(GRID_OWNER, "D02", "GEBYR"), None) is None
    )
