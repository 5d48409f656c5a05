"""The service path: events in (master data, metering data, charges, products, supply), a
settlement run, and `settlement.completed` / `settlement.correction` out, equal to the
golden cases of the shared specification; re-runs and corrections."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from wattline_contracts.datahub import (
    ChargeLinkReceivedV1,
    ChargeReceivedV1,
    MeasureDataReceivedV1,
    PriceSeriesV1,
)
from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.portfolio import (
    ContractChangedV1,
    MeteringPointRegisteredV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
)
from wattline_platform.identifiers import gsrn_with_check_digit
from wattline_platform.service import Service
from wattline_platform.testing import SchemaFactory, identity_auth
from wattline_settlement.adapters import run_chunks
from wattline_settlement.adapters import runs as run_store
from wattline_settlement.bootstrap import SPEC, SettlementSettings, build
from wattline_settlement.domain import billing
from wattline_settlement.domain.charge_rules import ENERGINET_GLN, local_midnight
from wattline_settlement.domain.model import Charges, Period, PriceVersion, Scenario, Series
from wattline_settlement.domain.scenario import parse_scenario
from wattline_settlement.handlers import corrections, events, inputs, pricing, runs

GOLDEN = (
    Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "settlement" / "golden"
)
GSRN = "571313180000000005"
GRID = "5799994000039"
SUPPLY_ID = "0b5e4a52-6a0e-4e4c-9a57-0c6f1a1f2d11"
CUSTOMER = "7d1f0c2e-5a8b-4f7e-9c1d-2b3a4c5d6e7f"
PRODUCT = "5f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8"


@dataclass
class Rig:
    service: Service

    async def deliver(self, *events: Event) -> None:
        assert self.service.consumer is not None
        async with self.service.database.transaction() as tx:
            for event in events:
                envelope = Envelope.wrap(event, key="k", producer="test", correlation_id="t")
                key = (event.TYPE, event.VERSION)
                if key in self.service.consumer.batch_routes:
                    await self.service.consumer.batch_routes[key](tx, [(event, envelope)])
                else:
                    _, handler = self.service.consumer.routes[key]
                    await handler(tx, event, envelope)

    async def outbox(self, topic: str) -> list[dict[str, Any]]:
        rows = await self.service.database.fetch(
            "SELECT envelope FROM outbox WHERE topic = $1 ORDER BY id", topic
        )
        return [json.loads(r["envelope"])["payload"] for r in rows]

    async def run(self, billing: str) -> dict[str, Any]:
        run_id = await runs.start_run(self.service, billing, None, "api")
        assert run_id is not None
        while await runs.work_once(self.service):
            pass
        return await self.view(run_id)

    async def view(self, run_id: uuid.UUID | None) -> dict[str, Any]:
        row = await self.service.database.fetchrow(
            "SELECT * FROM settlement_run WHERE run_id = $1", run_id
        )
        assert row is not None
        return runs.run_view(row)

    async def corrections(self) -> None:
        await corrections.queue_changed_data(self.service)
        while await corrections.recheck_some(self.service):
            pass


@pytest.fixture
async def rig(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[Rig]:
    service = build(SettlementSettings(database_url=postgres_dsn, jobs=False))
    service.db = await make_schema_db(SPEC.migrations_dir)
    yield Rig(service)


# -- turning a scenario into the events that would carry it --------------------------------


def _days(series: Series, period: Period) -> dict[date, list[Decimal]]:
    step = timedelta(minutes=15 if series.resolution == "PT15M" else 60)
    out: dict[date, list[Decimal]] = {}
    day = period.start
    index = 0
    while day < period.end:
        n = int((local_midnight(day + timedelta(days=1)) - local_midnight(day)) / step)
        out[day] = list(series.values[index : index + n])
        index += n
        day += timedelta(days=1)
    return out


def measure_events(series: Series, period: Period) -> list[MeasureDataReceivedV1]:
    return [
        MeasureDataReceivedV1(
            datahub_message_id=str(uuid.uuid4()),
            transaction_id=str(uuid.uuid4()),
            gsrn=GSRN,
            metering_point_type="E17",
            local_date=day,
            resolution=series.resolution,
            quantities_kwh=values,
            qualities=["A04"] * len(values),
        )
        for day, values in _days(series, period).items()
    ]


def spot_file(series: Series, period: Period) -> bytes:
    step = timedelta(minutes=15 if series.resolution == "PT15M" else 60)
    records = []
    for i, price in enumerate(series.values):
        start = series.start + i * step
        stamp = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        mwh = str(price * 1000)
        if series.resolution == "PT1H":
            records.append({"HourUTC": stamp, "PriceArea": "DK1", "SpotPriceDKK": mwh})
        else:
            records.append({"TimeUTC": stamp, "PriceArea": "DK1", "DayAheadPriceDKK": mwh})
    return json.dumps({"records": records}).encode()


def _charge(
    owner: str, kind: str, charge_id: str, versions: Sequence[tuple[date, list[Decimal], str]]
) -> ChargeReceivedV1:
    series = []
    for valid_from, values, resolution in versions:
        start = local_midnight(valid_from)
        end = local_midnight(valid_from + timedelta(days=1))
        series.append(PriceSeriesV1(resolution=resolution, start=start, end=end, prices=values))
    return ChargeReceivedV1(
        datahub_message_id=str(uuid.uuid4()),
        process_type="D08",
        owner_gln=owner,
        charge_type=kind,  # type: ignore[arg-type]
        charge_id=charge_id,
        resolution=versions[0][2],
        effective_date=local_midnight(versions[0][0]),
        tax_indicator=charge_id == "EA-001",
        price_series=series,
    )


def _flat(
    versions: Sequence[PriceVersion], resolution: str
) -> list[tuple[date, list[Decimal], str]]:
    return [(v.valid_from, [v.dkk], resolution) for v in versions]


def charge_events(charges: Charges, start: date) -> list[Event]:
    grid = []
    for v in charges.grid_tariff:
        values = list(v.hourly) if v.hourly else [v.flat or Decimal(0)] * 24
        grid.append((v.valid_from, values, "PT1H"))
    made: list[ChargeReceivedV1] = [
        _charge(GRID, "D03", "NET-T", grid),
        _charge(ENERGINET_GLN, "D03", "41000", _flat(charges.system_tariff, "P1D")),
        _charge(ENERGINET_GLN, "D03", "40000", _flat(charges.transmission_tariff, "P1D")),
        _charge(ENERGINET_GLN, "D03", "EA-001", _flat(charges.electricity_tax, "P1D")),
        _charge(GRID, "D01", "NET-ABO", _flat(charges.grid_subscription, "P1M")),
    ]
    links: list[Event] = [
        ChargeLinkReceivedV1(
            datahub_message_id=str(uuid.uuid4()),
            transaction_id=str(uuid.uuid4()),
            gsrn=GSRN,
            owner_gln=c.owner_gln,
            charge_type=c.charge_type,
            charge_id=c.charge_id,
            factor=1,
            start=local_midnight(start - timedelta(days=400)),
        )
        for c in made
    ]
    return [*made, *links]


def portfolio_events(charges: Charges, period: Period, resolution: str) -> list[Event]:
    [subscription] = charges.supplier_subscription
    prices: dict[str, Any] = {"price_type": "spot", "margin_dkk_per_kwh": Decimal(0)}
    if charges.fixed_price:
        [fixed] = charges.fixed_price
        prices.update(price_type="fixed", fixed_price_dkk_per_kwh=fixed.dkk)
    else:
        [margin] = charges.supplier_margin
        prices.update(margin_dkk_per_kwh=margin.dkk)
    return [
        MeteringPointRegisteredV1(
            gsrn=GSRN,
            grid_area="344",
            price_area="DK1",
            resolution=resolution,  # type: ignore[arg-type]
        ),
        ProductVersionPublishedV1(
            product_id=PRODUCT,
            version=1,
            name="Fastpris" if charges.fixed_price else "Spot",
            subscription_dkk_per_month=subscription.dkk,
            **prices,
            green_energy=False,
            valid_from=date(2020, 1, 1),
        ),
        ContractChangedV1(
            contract_id=str(uuid.uuid4()),
            gsrn=GSRN,
            customer_id=CUSTOMER,
            product_id=PRODUCT,
            product_version=1,
            start_date=period.start,
            end_date=None,
            billing_frequency="quarterly",
            payment_model="aconto",
        ),
        supply(period.start, None),
    ]


def supply(start: date, end: date | None, reason: str = "started") -> SupplyPeriodChangedV1:
    return SupplyPeriodChangedV1(
        supply_period_id=SUPPLY_ID,
        gsrn=GSRN,
        customer_id=CUSTOMER,
        start_date=start,
        end_date=end,
        reason=reason,  # type: ignore[arg-type]
    )


def golden(name: str) -> tuple[Scenario, dict[str, Any]]:
    case = json.loads((GOLDEN / f"{name}.json").read_text())
    return parse_scenario(case["input"]), case["expected"]


async def given(
    rig: Rig,
    scenario: Scenario,
    supply_end: date | None = None,
    supply_start: date | None = None,
) -> None:
    """The world of *scenario* as events: we supply GSRN over its period (or the given part)."""
    period = scenario.period
    await rig.deliver(*portfolio_events(scenario.charges, period, scenario.consumption.resolution))
    if supply_end is not None or supply_start is not None:
        await rig.deliver(supply(supply_start or period.start, supply_end, "ended"))
    await rig.deliver(*charge_events(scenario.charges, period.start))
    await rig.deliver(*measure_events(scenario.consumption, period))
    if scenario.spot is not None:
        await pricing.import_spot_file(rig.service.database, spot_file(scenario.spot, period))


def twin_events(events: Sequence[Event], gsrn: str, supply_period_id: str) -> list[Event]:
    """*events*' metering-point events again for another metering point *gsrn* (its own
    supply period, contract and DataHub messages); products and charges are shared."""
    twin: list[Event] = []
    for e in events:
        if isinstance(e, ProductVersionPublishedV1) or not hasattr(e, "gsrn"):
            continue
        update: dict[str, Any] = {"gsrn": gsrn}
        if isinstance(e, SupplyPeriodChangedV1):
            update["supply_period_id"] = supply_period_id
        if isinstance(e, ContractChangedV1):
            update["contract_id"] = str(uuid.uuid4())
        if isinstance(e, ChargeLinkReceivedV1 | MeasureDataReceivedV1):
            update["datahub_message_id"] = str(uuid.uuid4())
        twin.append(e.model_copy(update=update))
    return twin


def billing_of(period: Period) -> str:
    return f"{period.start.year:04d}-{period.start.month:02d}"


def lines_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: line[k] for k in ("code", "quantity_kwh", "days", "amount")}
        for line in payload["lines"]
    ]


def expected_lines(expected: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "code": line["code"],
            "quantity_kwh": line["quantity_kwh"],
            "days": line["days"],
            "amount": line["amount"],
        }
        for line in expected["lines"]
    ]


# -- the golden cases through the service -----------------------------------------------------


@pytest.mark.parametrize("name", ["GM01", "GM02", "GM03", "GM04", "GM10", "DST01", "SPOT01"])
async def test_golden_settlements_through_the_service(rig: Rig, name: str) -> None:
    scenario, expected = golden(name)
    period = scenario.period
    month_end = billing.billing_period(billing_of(period)).end
    await given(rig, scenario, supply_end=None if period.end == month_end else period.end)
    view = await rig.run(billing_of(period))
    assert view["status"] == "completed", view
    [completed] = await rig.outbox("settlement.completed")
    assert (completed["period_start"], completed["period_end"]) == (
        expected["period"]["start"],
        expected["period"]["end"],
    )
    assert lines_of(completed) == expected_lines(expected)
    assert (completed["consumption_kwh"], completed["subtotal"], completed["vat"]) == (
        expected["consumption_kwh"],
        expected["subtotal"],
        expected["vat"],
    )
    assert completed["total"] == expected["total"]
    assert completed["products"] == [
        {
            "product_id": PRODUCT,
            "product_version": 1,
            "start_date": expected["period"]["start"],
            "end_date": expected["period"]["end"],
        }
    ]


async def test_a_fastpris_customer_is_settled_at_the_fixed_price(rig: Rig) -> None:
    # Given FX01 (tests/golden): Fastpris at 1.10 DKK/kWh and 29.00 a month, supplied
    # 16-31 January 2025, and no spot prices at all (a fixed price needs none)
    case = json.loads((Path(__file__).parent / "golden" / "FX01.json").read_text())
    scenario, expected = parse_scenario(case["input"]), case["expected"]
    await given(rig, scenario, supply_end=None)
    assert await rig.service.database.fetchval("SELECT count(*) FROM spot_prices") == 0
    # When January is run
    view = await rig.run("2025-01")
    # Then it is settled, energy as one fixed_price_energy line: 211.200 kWh x 1.10 = 232.32,
    # no spot or margin line, subtotal 349.40, VAT 87.35, total 436.75
    assert view["status"] == "completed", view
    [completed] = await rig.outbox("settlement.completed")
    assert lines_of(completed) == expected_lines(expected)
    assert lines_of(completed)[0] == {
        "code": "fixed_price_energy",
        "quantity_kwh": "211.200",
        "days": None,
        "amount": "232.32",
    }
    assert completed["lines"][0]["unit_price"] == "1.100000"
    assert (completed["subtotal"], completed["vat"], completed["total"]) == (
        "349.40",
        "87.35",
        "436.75",
    )


async def test_a_change_from_spot_to_fastpris_inside_a_month(rig: Rig) -> None:
    from dataclasses import replace

    # Given FX01's 16-31 January on Spot (margin 0.04, 29.00 a month) with GM04's spot
    # prices, and a product change to Fastpris (1.10, 29.00) from 24 January
    case = json.loads((Path(__file__).parent / "golden" / "FX01.json").read_text())
    case["input"]["charges"]["supplier_margin"] = [
        {"valid_from": "2025-01-01", "dkk_per_kwh": "0.04"}
    ]
    case["input"]["charges"]["fixed_price"][0]["valid_from"] = "2025-01-24"
    case["input"]["spot"] = json.loads((GOLDEN / "GM04.json").read_text())["input"]["spot"]
    scenario = parse_scenario(case["input"])
    await given(rig, replace(scenario, charges=replace(scenario.charges, fixed_price=())))
    contract_id = await rig.service.database.fetchval("SELECT contract_id::text FROM contracts")
    fastpris = str(uuid.uuid4())
    terms: dict[str, Any] = {
        "gsrn": GSRN,
        "customer_id": CUSTOMER,
        "billing_frequency": "quarterly",
        "payment_model": "aconto",
    }
    await rig.deliver(
        ProductVersionPublishedV1(
            product_id=fastpris,
            version=1,
            name="Fastpris",
            price_type="fixed",
            margin_dkk_per_kwh=Decimal(0),
            fixed_price_dkk_per_kwh=Decimal("1.10"),
            subscription_dkk_per_month=Decimal("29.00"),
            green_energy=False,
            valid_from=date(2020, 1, 1),
        ),
        ContractChangedV1(
            contract_id=contract_id,
            product_id=PRODUCT,
            product_version=1,
            start_date=date(2025, 1, 16),
            end_date=date(2025, 1, 24),
            **terms,
        ),
        ContractChangedV1(
            contract_id=str(uuid.uuid4()),
            product_id=fastpris,
            product_version=1,
            start_date=date(2025, 1, 24),
            end_date=None,
            **terms,
        ),
    )
    # When January is run
    assert (await rig.run("2025-01"))["status"] == "completed"
    # Then 16-23 January are spot-priced (8 x 11.94 = 95.52, 105.6 kWh x 0.04 = 4.22) and
    # 24-31 January fixed (105.6 kWh x 1.10 = 116.16); total 416.23
    [completed] = await rig.outbox("settlement.completed")
    assert [(x["code"], x["quantity_kwh"], x["amount"]) for x in lines_of(completed)[:4]] == [
        ("spot_energy", "105.600", "95.52"),
        ("supplier_margin", "105.600", "4.22"),
        ("fixed_price_energy", "105.600", "116.16"),
        ("grid_tariff", "211.200", "53.38"),
    ]
    assert (completed["subtotal"], completed["vat"], completed["total"]) == (
        "332.98",
        "83.25",
        "416.23",
    )
    assert [p["product_id"] for p in completed["products"]] == [PRODUCT, fastpris]


async def test_a_rerun_changes_nothing_and_publishes_nothing(rig: Rig) -> None:
    scenario, _ = golden("GM01")
    await given(rig, scenario)
    first = await rig.run("2025-01")
    again = await rig.run("2025-01")
    assert first["progress"]["settled"] == 1 and again["progress"]["settled"] == 0
    assert again["status"] == "completed"
    assert len(await rig.outbox("settlement.completed")) == 1
    assert await rig.service.database.fetchval("SELECT count(*) FROM settlement") == 1


async def test_a_missing_spot_price_blocks_with_a_reason(rig: Rig) -> None:
    scenario, _ = golden("GM01")
    await given(rig, scenario)
    await rig.service.database.execute(
        "DELETE FROM spot_prices WHERE start_utc = '2025-01-15T10:00Z'"
    )
    view = await rig.run("2025-01")
    assert view["status"] == "blocked"
    assert "DK1 spot prices missing for 1 of 744" in view["reason"]
    assert "2025-01-15T10:00Z" in view["reason"]
    assert await rig.outbox("settlement.completed") == []


@pytest.mark.parametrize("name", ["GM05", "GM09"])
async def test_golden_corrections_through_the_service(rig: Rig, name: str) -> None:
    scenario, expected = golden(name)
    assert scenario.corrected_consumption is not None
    period = scenario.period
    month = billing.billing_period(billing_of(period))
    await given(rig, scenario, supply_end=None if period.end == month.end else period.end)
    await rig.run(billing_of(period))
    corrected = [
        day
        for day, old, new in zip(
            _days(scenario.consumption, period).items(),
            _days(scenario.consumption, period).values(),
            _days(scenario.corrected_consumption, period).values(),
            strict=True,
        )
        if old != new
    ]
    changed = {d for d, _ in corrected}
    await rig.deliver(
        *[
            e
            for e in measure_events(scenario.corrected_consumption, period)
            if e.local_date in changed
        ]
    )
    await rig.corrections()
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "metering_data_corrected"
    assert lines_of(correction) == expected_lines(expected)
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        expected["subtotal"],
        expected["vat"],
        expected["total"],
    )


async def test_erroneous_switch_credits_every_settled_month_golden_gm06(rig: Rig) -> None:
    scenario, expected = golden("GM06")
    period = scenario.period
    await given(rig, scenario)
    for month in billing.billing_periods_of(period):
        await rig.run(month)
    assert len(await rig.outbox("settlement.completed")) == 2
    await rig.deliver(supply(period.start, period.start, "rolled_back"))
    await rig.corrections()
    credits = await rig.outbox("settlement.correction")
    assert [c["reason"] for c in credits] == ["erroneous_switch", "erroneous_switch"]
    for credit, document in zip(credits, expected["documents"], strict=True):
        assert [line["amount"] for line in credit["lines"]] == [
            line["amount"] for line in document["lines"]
        ]
        assert (credit["subtotal"], credit["vat"], credit["total"]) == (
            document["subtotal"],
            document["vat"],
            document["total"],
        )
    assert str(sum(Decimal(c["total"]) for c in credits)) == expected["total"]


async def test_wattline_settlement_run_settles_with_progress(
    rig: Rig, postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from wattline.settlement_run import run

    scenario, expected = golden("GM01")
    await given(rig, scenario)
    code = await run(postgres_dsn, "2025-01", None, schema=rig.service.database.schema)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "completed, 1 settled, 0 not settled" in out
    [completed] = await rig.outbox("settlement.completed")
    assert completed["total"] == expected["total"] == "779.19"


# -- seed 000's process scenarios (GM#11, GM#12, A4), with GM01's January -----------------------
# GM01's inputs: 13.200 kWh a day (UTC hours 0-5 0.300, 6-15 0.500, 16-19 1.200, 20-23 0.400),
# spot 0.45/0.85/1.25/0.55 in the same bands = 11.94 DKK of spot a day, margin 0.04,
# subscriptions 49.00 + 39.00 a month, VAT 25 %.


async def test_gm11_erroneous_move_recalculates_the_changed_days(rig: Rig) -> None:
    scenario, _ = golden("GM01")
    await given(rig, scenario, supply_start=date(2025, 1, 16))  # moved in on the 16th
    await rig.run("2025-01")
    [completed] = await rig.outbox("settlement.completed")
    assert completed["total"] == "402.16"  # GM02: 16-31 January
    # BRS-011: the move-in really was on the 10th; six more days are ours.
    await rig.deliver(supply(date(2025, 1, 10), None, "start_corrected"))
    await rig.corrections()
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "supply_period_changed"
    assert (correction["period_start"], correction["period_end"]) == ("2025-01-10", "2025-02-01")
    by_code = {line["code"]: line for line in correction["lines"]}
    # 6 days x 13.2 kWh = 79.2 kWh, 6 x 11.94 = 71.64 DKK of spot, 79.2 x 0.04 = 3.168 margin
    # (11.62 - 8.45 = 3.17 of the rounded lines); 22/31 - 16/31 of each subscription.
    assert by_code["spot_energy"]["quantity_kwh"] == "79.200"
    assert by_code["spot_energy"]["amount"] == "71.64"
    assert by_code["supplier_margin"]["amount"] == "3.17"
    assert by_code["grid_subscription"]["days"] == 6
    assert by_code["grid_subscription"]["amount"] == "9.48"  # 34.77 - 25.29
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "120.64",  # 442.37 - 321.73
        "30.16",  # 110.59 - 80.43
        "150.80",  # 552.96 - 402.16: the fresh settlement of 10-31 January
    )
    assert await rig.service.database.fetchval("SELECT current_total FROM settlement") == Decimal(
        "552.96"
    )


async def test_gm12_a_correction_during_a_switch_is_settled_only_inside_our_supply(
    rig: Rig,
) -> None:
    scenario, _ = golden("GM01")
    await given(rig, scenario, supply_end=date(2025, 1, 16))  # another supplier from the 16th
    await rig.run("2025-01")
    [completed] = await rig.outbox("settlement.completed")
    assert (completed["period_end"], completed["total"]) == ("2025-01-16", "377.01")

    # DataHub corrects 10:00-11:00 UTC on the 14th (ours) and the 17th (not ours any more)
    # from 0.500 to 1.500 kWh.
    def corrected(day: date) -> MeasureDataReceivedV1:
        [event] = [e for e in measure_events(scenario.consumption, scenario.period)
                   if e.local_date == day]  # fmt: skip
        values = list(event.quantities_kwh)
        values[11] = Decimal("1.500")  # local 11:00 = 10:00 UTC in winter
        return event.model_copy(update={"quantities_kwh": values})

    await rig.deliver(corrected(date(2025, 1, 14)), corrected(date(2025, 1, 17)))
    await rig.corrections()
    [correction] = await rig.outbox("settlement.correction")
    amounts = {line["code"]: line["amount"] for line in correction["lines"]}
    # Only the 14th: +1 kWh at spot 0.85, margin 0.04, grid position 12 (local 11-12) 0.18,
    # system 0.054, transmission 0.049, tax 0.008; each line rounded corrected - original.
    assert amounts == {
        "spot_energy": "0.85",
        "supplier_margin": "0.04",
        "grid_tariff": "0.18",
        "system_tariff": "0.06",  # 10.75 - 10.69
        "transmission_tariff": "0.05",  # 9.75 - 9.70
        "electricity_tax": "0.01",  # 1.59 - 1.58
        "grid_subscription": "0.00",
        "supplier_subscription": "0.00",
    }
    assert correction["consumption_kwh"] == "1.000"
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "1.19",
        "0.30",
        "1.49",
    )
    # Original + correction = a fresh settlement of the corrected data, to the øre.
    assert Decimal(completed["total"]) + Decimal(correction["total"]) == Decimal("378.50")


async def test_a4_a_move_out_in_the_middle_of_the_billing_period(rig: Rig) -> None:
    scenario, _ = golden("GM01")
    await given(rig, scenario, supply_end=date(2025, 1, 20))  # moved out on the 20th
    await rig.run("2025-01")
    [completed] = await rig.outbox("settlement.completed")
    assert (completed["period_start"], completed["period_end"]) == ("2025-01-01", "2025-01-20")
    by_code = {line["code"]: line for line in completed["lines"]}
    # 19 days: 250.8 kWh, 19 x 11.94 = 226.86 of spot, 49.00 x 19/31 = 30.03, 39 x 19/31 = 23.90
    assert by_code["spot_energy"]["quantity_kwh"] == "250.800"
    assert by_code["spot_energy"]["amount"] == "226.86"
    assert (by_code["grid_subscription"]["days"], by_code["grid_subscription"]["amount"]) == (
        19,
        "30.03",
    )
    assert by_code["supplier_subscription"]["amount"] == "23.90"
    assert (completed["subtotal"], completed["vat"], completed["total"]) == (
        "382.04",
        "95.51",
        "477.55",
    )


async def test_the_export_api(rig: Rig) -> None:
    import httpx
    from wattline_platform.testing import serve_app

    scenario, expected = golden("GM05")  # a January, then a correction
    assert scenario.corrected_consumption is not None
    await given(rig, scenario)
    rig.service.uses_broker = False
    async with (
        serve_app(rig.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as api,
    ):
        started = await api.post("/api/settlement/runs", json={"period": "2025-01"})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        assert started.json()["status"] == "queued"
        while await runs.work_once(rig.service):
            pass
        run = (await api.get(f"/api/settlement/runs/{run_id}")).json()
        assert run["status"] == "completed"
        assert run["progress"] == {
            "total": 1,
            "done": 1,
            "settled": 1,
            "blocked": 0,
            "already_settled": 0,
        }
        listed = (await api.get("/api/settlement/runs", params={"period": "2025-01"})).json()
        assert [r["run_id"] for r in listed["items"]] == [run_id] and listed["total"] == 1
        assert (await api.get("/api/settlement/runs", params={"period": "2024-12"})).json()[
            "total"
        ] == 0
        lines = (await api.get(f"/api/settlement/runs/{run_id}/lines")).json()
        [settlement] = lines["items"]
        assert (settlement["gsrn"], settlement["total"]) == (GSRN, "779.19")
        assert settlement["lines"][0] == {
            "code": "spot_energy",
            "quantity_kwh": "409.200",
            "days": None,
            "amount": "370.14",
        }

        new_days = measure_events(scenario.corrected_consumption, scenario.period)
        await rig.deliver(*[e for e in new_days if e.local_date == date(2025, 1, 15)])
        await rig.corrections()
        history = (await api.get(f"/api/settlement/metering-points/{GSRN}/settlements")).json()
        [entry] = history["settlements"]
        assert entry["current_total"] == "780.10"  # 779.19 + 0.91
        assert [c["total"] for c in entry["corrections"]] == [expected["total"]]

        uninvoiced = (await api.get("/api/settlements/uninvoiced")).json()
        assert [s["settlement_id"] for s in uninvoiced["settlements"]] == [
            settlement["settlement_id"]
        ]
        [adjustment] = uninvoiced["adjustments"]
        marked = await api.post(
            f"/api/settlements/{settlement['settlement_id']}/mark-invoiced",
            json={"invoice_id": "INV-1"},
        )
        assert marked.status_code == 200 and marked.json()["kind"] == "settlement"
        again = await api.post(
            f"/api/settlements/{settlement['settlement_id']}/mark-invoiced",
            json={"invoice_id": "INV-1"},
        )
        assert again.status_code == 200  # idempotent
        other = await api.post(
            f"/api/settlements/{settlement['settlement_id']}/mark-invoiced",
            json={"invoice_id": "INV-2"},
        )
        assert other.status_code == 409
        await api.post(
            f"/api/settlements/{adjustment['correction_id']}/mark-invoiced",
            json={"invoice_id": "INV-2"},
        )
        after = (await api.get("/api/settlements/uninvoiced")).json()
        assert after["settlements"] == [] and after["adjustments"] == []
        invoiced = (await api.get("/api/settlements/adjustments", params={"invoiced": True})).json()
        assert [a["invoice_id"] for a in invoiced["items"]] == ["INV-2"]
        missing = await api.post(
            f"/api/settlements/{uuid.uuid4()}/mark-invoiced", json={"invoice_id": "X"}
        )
        assert missing.status_code == 404
        bad = await api.post("/api/settlement/runs", json={"period": "2025-13"})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")


async def test_golden_gm08_solar_production_is_netted_through_the_service(rig: Rig) -> None:
    scenario, expected = golden("GM08")
    assert scenario.production is not None
    period = scenario.period
    await given(rig, scenario, supply_end=period.end)
    solar = "571313180000000012"  # the customer's production (E18) metering point
    await rig.deliver(
        MeteringPointRegisteredV1(
            gsrn=solar, grid_area="344", price_area="DK1", metering_point_type="E18",
            settlement_method=None,
        ),
        SupplyPeriodChangedV1(
            supply_period_id=str(uuid.uuid4()), gsrn=solar, customer_id=CUSTOMER,
            start_date=period.start, end_date=period.end, reason="started",
        ),
        *[
            e.model_copy(update={"gsrn": solar, "metering_point_type": "E18"})
            for e in measure_events(scenario.production, period)
        ],
    )  # fmt: skip
    view = await rig.run(billing_of(period))
    assert view["progress"] == {
        "total": 1,
        "done": 1,
        "settled": 1,
        "blocked": 0,
        "already_settled": 0,
    }
    [completed] = await rig.outbox("settlement.completed")
    assert completed["gsrn"] == GSRN
    assert lines_of(completed) == expected_lines(expected)
    assert lines_of(completed)[-1] == {
        "code": "solar_export_credit",
        "quantity_kwh": "0.500",
        "days": None,
        "amount": "-0.43",
    }
    assert completed["total"] == expected["total"] == "19.51"


async def test_golden_gm07_elvarme_through_the_service(rig: Rig) -> None:
    import httpx
    from wattline_platform.testing import serve_app

    scenario, expected = golden("GM07")
    assert scenario.elvarme is not None
    await given(rig, scenario)
    rig.service.uses_broker = False
    async with (
        serve_app(rig.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as api,
    ):
        # Back office registers the electric heating with the kWh the customer already used
        # this year, and the reduced rate is set from its date.
        registered = await api.put(
            f"/api/settlement/metering-points/{GSRN}/elvarme",
            json={"from_date": "2025-01-01", "consumed_kwh_before": "3800.000"},
        )
        assert registered.status_code == 200, registered.text
        rate = await api.put(
            "/api/settlement/reduced-electricity-tax",
            json={"valid_from": "2025-01-01", "dkk_per_kwh": "0.005"},
        )
        assert rate.status_code == 200, rate.text
        await rig.run("2025-01")
        [completed] = await rig.outbox("settlement.completed")
    tax = next(line for line in completed["lines"] if line["code"] == "electricity_tax")
    assert tax["amount"] == "2.65"  # 200 kWh x 0.008 + 209.2 kWh x 0.005 = 2.646
    assert lines_of(completed) == expected_lines(expected)
    assert completed["total"] == expected["total"] == "778.41"


async def test_the_elvarme_counter_carries_into_the_next_month(rig: Rig) -> None:
    import httpx
    from wattline_platform.testing import serve_app

    scenario, _ = golden("GM06")  # January and February of GM01's profile
    await given(rig, scenario)
    rig.service.uses_broker = False
    async with (
        serve_app(rig.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as api,
    ):
        await api.put(
            f"/api/settlement/metering-points/{GSRN}/elvarme",
            json={"from_date": "2025-01-01", "consumed_kwh_before": "3800.000"},
        )
        await api.put(
            "/api/settlement/reduced-electricity-tax",
            json={"valid_from": "2025-01-01", "dkk_per_kwh": "0.005"},
        )
        await rig.run("2025-01")
        kinds = await rig.service.database.fetch(
            "SELECT jsonb_typeof(lines), current_lines FROM settlement"
        )
        assert [tuple(k) for k in kinds] == [("array", None)]  # a document; stored once
        await rig.run("2025-02")
        january, february = await rig.outbox("settlement.completed")
    tax = [
        next(line for line in s["lines"] if line["code"] == "electricity_tax")
        for s in (january, february)
    ]
    # January: 200 kWh at 0.008 up to 4,000, then 209.2 kWh at 0.005 = 2.646.
    assert (tax[0]["quantity_kwh"], tax[0]["amount"]) == ("409.200", "2.65")
    # February starts at 4,009.2 kWh: all 28 x 13.2 = 369.6 kWh at 0.005 = 1.848.
    assert (tax[1]["quantity_kwh"], tax[1]["amount"]) == ("369.600", "1.85")


# -- the schedule, retries and what a run's listing says (issue 11) ---------------------------


@dataclass
class Clock:
    """Business time that the test moves (the simulator's clock, in the running system)."""

    today: date

    async def now(self) -> datetime:
        return datetime.combine(self.today, time(12), tzinfo=UTC)


async def given_without_days(rig: Rig, scenario: Scenario, missing: set[date]) -> list[Event]:
    """*scenario*'s world with the metering data of *missing* held back; returns it."""
    period = scenario.period
    await rig.deliver(*portfolio_events(scenario.charges, period, scenario.consumption.resolution))
    await rig.deliver(*charge_events(scenario.charges, period.start))
    days = measure_events(scenario.consumption, period)
    await rig.deliver(*[e for e in days if e.local_date not in missing])
    await pricing.import_spot_file(rig.service.database, spot_file(scenario.spot, period))
    return [e for e in days if e.local_date in missing]


async def work(rig: Rig) -> None:
    while await runs.work_once(rig.service):
        pass


async def run_of(rig: Rig, run_id: uuid.UUID | str) -> dict[str, Any]:
    row = await rig.service.database.fetchrow(
        "SELECT * FROM settlement_run WHERE run_id = $1", uuid.UUID(str(run_id))
    )
    assert row is not None
    return runs.run_view(row)


def test_after_a_clock_jump_every_month_since_the_last_scheduled_one_is_due() -> None:
    months = billing.months_to_schedule
    assert months(None, date(2025, 3, 10)) == ["2025-02"]
    assert months("2025-02", date(2025, 3, 10)) == ["2025-02"]
    assert months("2024-12", date(2025, 3, 10)) == ["2025-01", "2025-02"]
    assert months("2024-11", date(2025, 1, 1)) == ["2024-12"]
    assert len(months("2019-01", date(2025, 3, 10))) == billing.MAX_CATCH_UP_MONTHS


async def test_the_scheduled_run_waits_for_complete_data_then_settles(rig: Rig) -> None:
    scenario, expected = golden("GM01")
    late = {date(2025, 1, d) for d in range(21, 32)}  # DataHub still catching up: 21-31 Jan
    held_back = await given_without_days(rig, scenario, late)
    # And the 10th arrived with a missing value (A02) in its latest version.
    [tenth] = [e for e in measure_events(scenario.consumption, scenario.period)
               if e.local_date == date(2025, 1, 10)]  # fmt: skip
    gap = tenth.model_copy(
        update={
            "quantities_kwh": [None, *tenth.quantities_kwh[1:]],
            "qualities": ["A02", *tenth.qualities[1:]],
        }
    )
    await rig.deliver(gap)
    clock = Clock(date(2025, 2, 5))
    rig.service.clock = clock  # type: ignore[assignment]
    due = runs.schedule_due
    assert await due(rig.service, 5, 10) == []  # before the 6th: not yet
    assert await rig.service.database.fetchval("SELECT count(*) FROM settlement_run") == 0
    clock.today = date(2025, 2, 6)
    waiting: dict[str, Any] = {}
    assert await due(rig.service, 5, 10, waiting) == []  # 11 days and a value missing
    [run] = await rig.service.database.fetch("SELECT * FROM settlement_run")
    assert (run["trigger"], run["status"], run["reason"]) == (
        "schedule",
        "waiting",
        "waiting for metering data: 1 of 1 supply periods incomplete; "
        "starts by 2025-02-11 regardless",
    )
    assert not await runs.work_once(rig.service)  # nothing for a worker yet
    await rig.deliver(*held_back)
    assert await due(rig.service, 5, 10, waiting) == []  # the 10th still has its gap
    await rig.deliver(tenth)  # DataHub's correction of the 10th: a whole day
    assert await due(rig.service, 5, 10, waiting) == ["2025-01"]
    assert await due(rig.service, 5, 10, waiting) == []  # once
    await work(rig)
    [run] = await rig.service.database.fetch("SELECT run_id FROM settlement_run")
    view = await run_of(rig, run["run_id"])
    assert (view["trigger"], view["status"], view["attempts"]) == ("schedule", "completed", 1)
    assert view["progress"] == {
        "total": 1, "done": 1, "settled": 1, "blocked": 0, "already_settled": 0,
    }  # fmt: skip
    [completed] = await rig.outbox("settlement.completed")
    assert completed["total"] == expected["total"] == "779.19"


async def test_complete_means_the_days_of_the_supply_period(rig: Rig) -> None:
    scenario, _ = golden("GM01")
    # Our supply ends on the 16th: 1-15 January is all the data the run needs.
    held_back = await given_without_days(rig, scenario, {date(2025, 1, d) for d in range(16, 32)})
    await rig.deliver(supply(scenario.period.start, date(2025, 1, 16), "ended"))
    assert held_back
    rig.service.clock = Clock(date(2025, 2, 6))  # type: ignore[assignment]
    assert await runs.schedule_due(rig.service, 5, 10) == ["2025-01"]


async def test_past_the_deadline_the_run_starts_and_its_blocked_items_are_retried_in_place(
    rig: Rig,
) -> None:
    scenario, expected = golden("GM01")
    held_back = await given_without_days(rig, scenario, {date(2025, 1, 31)})
    rig.service.clock = Clock(date(2025, 2, 10))  # type: ignore[assignment]
    assert await runs.schedule_due(rig.service, 5, 10) == []  # incomplete, deadline the 11th
    rig.service.clock = Clock(date(2025, 2, 11))  # type: ignore[assignment]
    assert await runs.schedule_due(rig.service, 5, 10) == ["2025-01"]
    await work(rig)
    [scheduled] = await rig.service.database.fetch("SELECT run_id FROM settlement_run")
    first = await run_of(rig, scheduled["run_id"])
    assert first["status"] == "blocked"
    assert "metering data missing" in first["reason"]
    assert first["progress"]["blocked"] == 1 and first["progress"]["settled"] == 0
    # Another run of the period, newer and completed (a grid area we have no points in):
    # the blocked one is still retried.
    other = await runs.start_run(rig.service, "2025-01", "999", "api")
    await work(rig)
    assert (await run_of(rig, str(other)))["status"] == "completed"
    assert await runs.retry_blocked(rig.service, after_s=3600) == 0  # not yet: it just ran
    await rig.deliver(*held_back)
    assert await runs.retry_blocked(rig.service, after_s=0) == 1
    assert (await run_of(rig, scheduled["run_id"]))["status"] == "queued"
    await work(rig)
    final = await run_of(rig, scheduled["run_id"])
    assert (final["status"], final["reason"], final["attempts"]) == ("completed", None, 2)
    assert final["progress"] == {
        "total": 1, "done": 1, "settled": 1, "blocked": 0, "already_settled": 0,
    }  # fmt: skip
    [completed] = await rig.outbox("settlement.completed")
    assert (completed["run_id"], completed["total"]) == (
        str(scheduled["run_id"]),
        expected["total"],
    )
    assert await runs.retry_blocked(rig.service, after_s=0) == 0  # nothing left to retry


async def test_a_blocked_run_settled_by_another_run_shows_it(rig: Rig) -> None:
    import httpx
    from wattline_platform.testing import serve_app

    scenario, _ = golden("GM01")
    held_back = await given_without_days(rig, scenario, {date(2025, 1, 31)})
    rig.service.clock = Clock(date(2025, 2, 11))  # type: ignore[assignment]
    await runs.schedule_due(rig.service, 5, 10)
    await work(rig)
    [scheduled] = await rig.service.database.fetch("SELECT run_id FROM settlement_run")
    await rig.deliver(*held_back)
    manual = await rig.run("2025-01")  # back office runs the month again by hand
    assert (manual["status"], manual["progress"]["settled"]) == ("completed", 1)
    assert await runs.retry_blocked(rig.service, after_s=3600) == 0
    rig.service.uses_broker = False
    async with (
        serve_app(rig.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as api,
    ):
        detail = (await api.get(f"/api/settlement/runs/{scheduled['run_id']}")).json()
        assert (detail["status"], detail["blocked"], detail["reason"]) == ("completed", [], None)
        assert detail["progress"] == {
            "total": 1, "done": 1, "settled": 0, "blocked": 0, "already_settled": 1,
        }  # fmt: skip
        listed = (await api.get("/api/settlement/runs", params={"status": "blocked"})).json()
        assert listed["total"] == 0


async def test_a_run_for_a_grid_area_without_metering_points_settles_and_lists_nothing(
    rig: Rig,
) -> None:
    import httpx
    from wattline_platform.testing import serve_app

    scenario, expected = golden("GM01")  # GSRN is in grid area 344
    await given(rig, scenario)
    empty = await runs.start_run(rig.service, "2025-01", "999", "api")
    await work(rig)
    # The correction job runs (GSRN's supply start queued a recheck): a period that was run
    # only for grid area 999 is not GSRN's to settle, and nothing lands in 999's run.
    await rig.corrections()
    assert await rig.service.database.fetchval("SELECT count(*) FROM settlement") == 0
    everyone = await rig.run("2025-01")
    assert everyone["progress"]["settled"] == 1
    # Later rechecks (new supply information) leave 999's run empty too.
    await rig.deliver(supply(scenario.period.start, None, "start_corrected"))
    await rig.corrections()
    rig.service.uses_broker = False
    async with (
        serve_app(rig.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as api,
    ):
        detail = (await api.get(f"/api/settlement/runs/{empty}")).json()
        assert (detail["status"], detail["grid_area"], detail["blocked"]) == (
            "completed",
            "999",
            [],
        )
        assert detail["progress"] == {
            "total": 0, "done": 0, "settled": 0, "blocked": 0, "already_settled": 0,
        }  # fmt: skip
        lines = (await api.get(f"/api/settlement/runs/{empty}/lines")).json()
        assert (lines["items"], lines["total"]) == ([], 0)
        theirs = (await api.get(f"/api/settlement/runs/{everyone['run_id']}/lines")).json()
        assert [(s["gsrn"], s["total"]) for s in theirs["items"]] == [(GSRN, expected["total"])]


async def test_a_late_supply_is_settled_on_behalf_of_the_run_that_covers_it(rig: Rig) -> None:
    scenario, _ = golden("GM01")
    await given(rig, scenario, supply_start=date(2025, 1, 16))
    await rig.corrections()
    area = await runs.start_run(rig.service, "2025-01", "344", "api")
    await work(rig)
    other_area = await runs.start_run(rig.service, "2025-01", "999", "api")  # newer
    await work(rig)
    # A second metering point of ours in 344 whose supply reaches into January arrives late.
    late_gsrn, late_supply = "571313180000000029", str(uuid.uuid4())
    await rig.deliver(
        MeteringPointRegisteredV1(gsrn=late_gsrn, grid_area="344", price_area="DK1"),
        SupplyPeriodChangedV1(
            supply_period_id=late_supply, gsrn=late_gsrn, customer_id=str(uuid.uuid4()),
            start_date=date(2025, 1, 20), end_date=None, reason="started",
        ),
    )  # fmt: skip
    await rig.corrections()  # no data for it: blocked, on behalf of the 344 run
    view = await run_of(rig, str(area))
    assert (view["status"], view["progress"]["total"], view["progress"]["blocked"]) == (
        "blocked",
        2,
        1,
    )
    assert (await run_of(rig, str(other_area)))["progress"]["total"] == 0


async def test_after_a_clock_jump_each_month_waits_for_its_own_data(rig: Rig) -> None:
    scenario, _ = golden("GM01")  # supplied from 1 January, open-ended
    held_back = await given_without_days(rig, scenario, {date(2025, 1, 31)})
    clock = Clock(date(2025, 1, 7))
    rig.service.clock = clock  # type: ignore[assignment]
    assert await runs.schedule_due(rig.service, 5, 10) == ["2024-12"]  # nothing of ours then
    await work(rig)
    clock.today = date(2025, 3, 8)  # the simulator's clock jumps two months ahead
    assert await runs.schedule_due(rig.service, 5, 60) == []
    rows = await rig.service.database.fetch(
        "SELECT billing_period, status FROM settlement_run ORDER BY billing_period"
    )
    assert [tuple(r) for r in rows] == [
        ("2024-12", "completed"),
        ("2025-01", "waiting"),  # the 31st is missing
        ("2025-02", "waiting"),  # no February data yet
    ]
    await rig.deliver(*held_back)
    assert await runs.schedule_due(rig.service, 5, 60) == ["2025-01"]
    assert await runs.schedule_due(rig.service, 5, 60) == []  # February still waits
    await work(rig)
    statuses = await rig.service.database.fetch(
        "SELECT billing_period, status FROM settlement_run ORDER BY billing_period"
    )
    assert [tuple(r) for r in statuses][1:] == [("2025-01", "completed"), ("2025-02", "waiting")]


async def test_invoicings_events_take_what_they_billed_out_of_the_uninvoiced_view(
    rig: Rig,
) -> None:
    from decimal import Decimal

    from wattline_contracts.invoicing import (
        BilledItemV1,
        CreditNoteIssuedV1,
        InvoiceIssuedV1,
        PassThroughV1,
    )

    scenario, _ = golden("GM05")
    assert scenario.corrected_consumption is not None
    await given(rig, scenario)
    await rig.run("2025-01")
    new_days = measure_events(scenario.corrected_consumption, scenario.period)
    await rig.deliver(*[e for e in new_days if e.local_date == date(2025, 1, 15)])
    await rig.corrections()
    [settled] = await rig.outbox("settlement.completed")
    [corrected] = await rig.outbox("settlement.correction")
    zero = Decimal("0.00")

    def issued(cls: Any, number: str, item: tuple[str, str]) -> Any:
        return cls(
            invoice_id=f"inv-{number}", number=number, account_id="a", account_number=100001,
            cycle=None, period_start=date(2025, 1, 1), period_end=date(2025, 2, 1),
            issue_date=date(2025, 2, 7), due_date=date(2025, 2, 21), fi_payment_id=None,
            lines=[], subtotal=zero, vat=zero, total=zero, aconto_paid=zero, difference=zero,
            next_prepayment=zero, net_amount_due=zero,
            pass_through=PassThroughV1(supplier=zero, grid=zero, energinet=zero, elafgift=zero),
            billed=[BilledItemV1(source_id=item[0], source_kind=item[1])],  # type: ignore[arg-type]
        )  # fmt: skip

    invoice = issued(InvoiceIssuedV1, "2025-00001", (settled["settlement_id"], "settlement"))
    await rig.deliver(invoice)
    await rig.deliver(invoice)  # a redelivery marks nothing again
    note = issued(CreditNoteIssuedV1, "K2025-00001", (corrected["correction_id"], "correction"))
    await rig.deliver(note)
    rows = await rig.service.database.fetch(
        """SELECT invoice_id FROM settlement UNION ALL
           SELECT invoice_id FROM settlement_correction"""
    )
    assert sorted(r["invoice_id"] for r in rows) == ["inv-2025-00001", "inv-K2025-00001"]


# -- back-dated changes of prices, links, contracts and master data -------------------------


async def _queued(rig: Rig) -> list[tuple[str, str]]:
    rows = await rig.service.database.fetch(
        "SELECT gsrn, reason FROM settlement_recheck ORDER BY gsrn"
    )
    return [(r["gsrn"], r["reason"]) for r in rows]


def _amount(payload: dict[str, Any], code: str) -> str:
    [line] = [x for x in payload["lines"] if x["code"] == code]
    return str(line["amount"])


async def _settled_january(rig: Rig) -> Scenario:
    scenario, _ = golden("GM01")  # spot 370.14, margin 16.37, grid 103.42 ... total 779.19
    await given(rig, scenario)
    assert (await rig.run("2025-01"))["status"] == "completed"
    await rig.corrections()  # the supply period's own recheck: nothing to correct
    assert await _queued(rig) == []
    assert await rig.outbox("settlement.correction") == []
    return scenario


async def test_a_back_dated_grid_tariff_price_rechecks_its_linked_points(rig: Rig) -> None:
    # Given January settled as GM01
    await _settled_january(rig)
    gm10, expected = golden("GM10")
    # A new grid tariff price for March (not settled) queues nothing
    [_, raised] = gm10.charges.grid_tariff
    assert raised.hourly is not None
    await rig.deliver(
        _charge(GRID, "D03", "NET-T", [(date(2025, 3, 1), list(raised.hourly), "PT1H")])
    )
    assert await _queued(rig) == []
    # When the grid company raises it by 50 % back-dated from 16 January (GM10's prices)
    await rig.deliver(
        _charge(GRID, "D03", "NET-T", [(date(2025, 1, 16), list(raised.hourly), "PT1H")])
    )
    # Then exactly the linked, settled metering point is queued, and its correction is
    # GM10 - GM01: grid 130.10 - 103.42 = 26.68, VAT 162.51 - 155.84 = 6.67, total 33.35
    assert await _queued(rig) == [(GSRN, "charge_prices_changed")]
    await rig.corrections()
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "charge_prices_changed"
    assert _amount(correction, "grid_tariff") == "26.68"
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "26.68",
        "6.67",
        "33.35",
    )
    assert expected["total"] == "812.54"  # 779.19 + 33.35: settled + correction = GM10


async def test_a_corrected_spot_price_rechecks_that_price_area(rig: Rig) -> None:
    scenario = await _settled_january(rig)
    assert scenario.spot is not None
    # A DK2 price, or a DK1 price of February (not settled), queues nothing
    other = spot_file(scenario.spot, scenario.period).replace(b'"DK1"', b'"DK2"')
    await pricing.import_spot_file(rig.service.database, other)
    february = {"records": [{"HourUTC": "2025-02-10T10:00:00", "PriceArea": "DK1",
                             "SpotPriceDKK": "1850"}]}  # fmt: skip
    await pricing.import_spot_file(rig.service.database, json.dumps(february).encode())
    assert await _queued(rig) == []
    # When EDS corrects 15 January 10:00Z from 0.85 to 1.85 DKK/kWh (0.500 kWh that hour)
    fixed = {"records": [{"HourUTC": "2025-01-15T10:00:00", "PriceArea": "DK1",
                          "SpotPriceDKK": "1850"}]}  # fmt: skip
    await pricing.import_spot_file(rig.service.database, json.dumps(fixed).encode())
    assert await _queued(rig) == [(GSRN, "spot_prices_changed")]
    await rig.corrections()
    # Then spot energy is 0.500 x 1.00 = 0.50 more; VAT round(623.85 x 0.25 = 155.9625) =
    # 155.96, 0.12 more than 155.84; total 0.62
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "spot_prices_changed"
    assert _amount(correction, "spot_energy") == "0.50"
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "0.50",
        "0.12",
        "0.62",
    )


async def test_a_back_dated_charge_link_is_a_correction_of_its_own_kind(rig: Rig) -> None:
    await _settled_january(rig)
    # When the grid company links a second flat tariff of 0.10 DKK/kWh from 16 January
    second = _charge(GRID, "D03", "NET-T2", [(date(2025, 1, 1), [Decimal("0.10")] * 24, "PT1H")])
    await rig.deliver(second)
    assert await _queued(rig) == []  # linked to nobody yet
    await rig.deliver(
        ChargeLinkReceivedV1(
            datahub_message_id=str(uuid.uuid4()),
            transaction_id=str(uuid.uuid4()),
            gsrn=GSRN,
            owner_gln=GRID,
            charge_type="D03",
            charge_id="NET-T2",
            factor=1,
            start=local_midnight(date(2025, 1, 16)),
        )
    )
    assert await _queued(rig) == [(GSRN, "charge_links_changed")]
    await rig.corrections()
    # Then the grid tariff is 16 days x 13.2 kWh x 0.10 = 21.12 more; VAT
    # round(644.47 x 0.25 = 161.1175) = 161.12, 5.28 more than 155.84
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "charge_links_changed"
    assert _amount(correction, "grid_tariff") == "21.12"
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "21.12",
        "5.28",
        "26.40",
    )


async def test_a_back_dated_contract_change_is_corrected_as_such(rig: Rig) -> None:
    await _settled_january(rig)
    contract_id = await rig.service.database.fetchval("SELECT contract_id::text FROM contracts")
    # When the customer's product changes from 16 January to a version with a margin of
    # 0.05 instead of 0.04 (same subscription), recorded after January was settled
    await rig.deliver(
        ProductVersionPublishedV1(
            product_id=PRODUCT,
            version=2,
            name="Spot",
            price_type="spot",
            margin_dkk_per_kwh=Decimal("0.05"),
            subscription_dkk_per_month=Decimal("39.00"),
            green_energy=False,
            valid_from=date(2025, 1, 1),
        )
    )
    assert await _queued(rig) == []
    changed = dict(
        gsrn=GSRN,
        customer_id=CUSTOMER,
        product_id=PRODUCT,
        billing_frequency="quarterly",
        payment_model="aconto",
    )
    await rig.deliver(
        ContractChangedV1(
            contract_id=contract_id,
            product_version=1,
            start_date=date(2025, 1, 1),
            end_date=date(2025, 1, 16),
            **changed,  # type: ignore[arg-type]
        ),
        ContractChangedV1(
            contract_id=str(uuid.uuid4()),
            product_version=2,
            start_date=date(2025, 1, 16),
            end_date=None,
            **changed,  # type: ignore[arg-type]
        ),
    )
    assert await _queued(rig) == [(GSRN, "contract_changed")]
    await rig.corrections()
    # Then the margin is 211.2 kWh x 0.01 = 2.112 more: 16.368 -> 16.37 becomes
    # 198 x 0.04 + 211.2 x 0.05 = 18.48, so 2.11; VAT round(625.46 x 0.25 = 156.365) = 156.37
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "contract_changed"
    assert _amount(correction, "supplier_margin") == "2.11"
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "2.11",
        "0.53",
        "2.64",
    )


async def test_changed_master_data_rechecks_every_settled_period(rig: Rig) -> None:
    scenario = await _settled_january(rig)
    assert scenario.spot is not None
    registered = MeteringPointRegisteredV1(
        gsrn=GSRN, grid_area="344", price_area="DK1", resolution="PT1H"
    )
    await rig.deliver(registered)  # the same again: nothing to recheck
    assert await _queued(rig) == []
    # DK2's January spot is DK1's + 0.10 DKK/kWh every hour
    dk2 = Series(
        scenario.spot.resolution,
        scenario.spot.start,
        tuple(v + Decimal("0.10") for v in scenario.spot.values),
    )
    body = spot_file(dk2, scenario.period).replace(b'"DK1"', b'"DK2"')
    await pricing.import_spot_file(rig.service.database, body)
    # When portfolio corrects the metering point's price area to DK2
    await rig.deliver(registered.model_copy(update={"price_area": "DK2"}))
    assert await _queued(rig) == [(GSRN, "master_data_changed")]
    await rig.corrections()
    # Then spot energy is 409.2 kWh x 0.10 = 40.92 more; VAT round(664.27 x 0.25 =
    # 166.0675) = 166.07, 10.23 more than 155.84
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "master_data_changed"
    assert _amount(correction, "spot_energy") == "40.92"
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "40.92",
        "10.23",
        "51.15",
    )


# -- a rollback reversed, elvarme from inside a month --------------------------------------


async def test_a_rollback_reversed_restores_the_credited_settlements(rig: Rig) -> None:
    # Given January and February settled (GM06: 779.19 and 714.43) and then credited in full
    # because the switch was rolled back
    scenario, expected = golden("GM06")
    period = scenario.period
    await given(rig, scenario)
    for month in billing.billing_periods_of(period):
        await rig.run(month)
    await rig.deliver(supply(period.start, period.start, "rolled_back"))
    await rig.corrections()
    assert [c["total"] for c in await rig.outbox("settlement.correction")] == [
        "-779.19",
        "-714.43",
    ]
    # When the rollback itself is reversed: the period is ours again
    await rig.deliver(supply(period.start, None, "reopened"))
    await rig.corrections()
    # Then both months are restored, line for line what was credited, and stand as settled
    _, _, *restored = await rig.outbox("settlement.correction")
    assert [c["reason"] for c in restored] == ["supply_period_changed"] * 2
    for restore, document in zip(restored, expected["documents"], strict=True):
        assert (restore["period_start"], restore["period_end"]) == (
            document["period"]["start"],
            document["period"]["end"],
        )
        assert [line["amount"] for line in restore["lines"]] == [
            str(-Decimal(line["amount"])) for line in document["lines"]
        ]
        assert restore["total"] == str(-Decimal(document["total"]))
    rows = await rig.service.database.fetch(
        "SELECT credited, current_total, total FROM settlement ORDER BY period_start"
    )
    assert [(r["credited"], str(r["current_total"])) for r in rows] == [
        (False, "779.19"),
        (False, "714.43"),
    ]
    # And rechecking again changes nothing
    await rig.deliver(supply(period.start, None, "reopened"))
    await rig.corrections()
    assert len(await rig.outbox("settlement.correction")) == 4


async def test_elvarme_registered_from_inside_a_month_applies_from_that_date(rig: Rig) -> None:
    import httpx
    from wattline_platform.testing import serve_app

    # Given January settled as GM01: electricity tax 409.2 kWh x 0.008 = 3.2736 -> 3.27
    await _settled_january(rig)
    rig.service.uses_broker = False
    async with (
        serve_app(rig.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as api,
    ):
        # When electric heating is registered from 16 January with 3,800 kWh counted by then,
        # and the reduced rate 0.005
        rate = await api.put(
            "/api/settlement/reduced-electricity-tax",
            json={"valid_from": "2025-01-01", "dkk_per_kwh": "0.005"},
        )
        assert rate.status_code == 200, rate.text
        registered = await api.put(
            f"/api/settlement/metering-points/{GSRN}/elvarme",
            json={"from_date": "2025-01-16", "consumed_kwh_before": "3800.000"},
        )
        assert registered.status_code == 200, registered.text
        await rig.corrections()
        # Then 1-15 January pay the normal tax: 198 kWh x 0.008 = 1.584; from the 16th 200
        # kWh at 0.008 = 1.600 reach 4,000 and the other 11.2 kWh pay 0.005 = 0.056: 3.24,
        # 0.03 less; VAT round(623.32 x 0.25 = 155.83) is 0.01 less, the total 0.04
        [correction] = await rig.outbox("settlement.correction")
        total = await rig.service.database.fetchval("SELECT current_total FROM settlement")
    assert correction["reason"] == "master_data_changed"
    assert _amount(correction, "electricity_tax") == "-0.03"
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "-0.03",
        "-0.01",
        "-0.04",
    )
    assert str(total) == "779.15"


# -- following a DataHub message into the settlement (the log's trail) ------------------------


async def test_a_settlement_names_the_datahub_messages_it_settled(rig: Rig) -> None:
    from structlog.testing import capture_logs

    # Given GM01: January's 31 days, each in a DataHub message of its own
    scenario, expected = golden("GM01")
    await given(rig, scenario)
    messages = [
        r["datahub_message_id"]
        for r in await rig.service.database.fetch(
            "SELECT datahub_message_id FROM metering_data JOIN metering_data_source s"
            " ON s.id = source_id ORDER BY datahub_message_id"
        )
    ]
    assert len(messages) == 31
    # When January is settled
    with capture_logs() as logs:
        view = await rig.run("2025-01")
    # Then its one log line names the settlement and all 31 messages its data came from
    [settled] = [e for e in logs if e["event"] == "settlement_settled"]
    [completed] = await rig.outbox("settlement.completed")
    assert settled["settlement_id"] == completed["settlement_id"]
    assert (settled["run_id"], settled["gsrn"], settled["period"]) == (
        view["run_id"],
        GSRN,
        "2025-01",
    )
    assert settled["total"] == expected["total"] == "779.19"
    assert settled["datahub_message_ids"] == messages
    # and the run's id is the correlation id its settlement.completed travels under
    envelope = await rig.service.database.fetchval(
        "SELECT envelope FROM outbox WHERE topic = 'settlement.completed'"
    )
    assert json.loads(envelope)["correlation_id"] == view["run_id"]


async def test_a_correction_names_the_datahub_messages_that_corrected_it(rig: Rig) -> None:
    from structlog.testing import capture_logs

    # Given GM01's January settled
    scenario = await _settled_january(rig)
    # When DataHub corrects 15 January (the day's consumption was 0 after all)
    [day] = [e for e in measure_events(scenario.consumption, scenario.period)
             if e.local_date == date(2025, 1, 15)]  # fmt: skip
    zero = day.model_copy(update={"quantities_kwh": [Decimal("0.000")] * 24})
    await rig.deliver(zero)
    with capture_logs() as logs:
        await rig.corrections()
    # Then the correction's line names that message alone, and the settlement it corrects
    [corrected] = [e for e in logs if e["event"] == "settlement_corrected"]
    [correction] = await rig.outbox("settlement.correction")
    assert corrected["datahub_message_ids"] == [zero.datahub_message_id]
    assert (corrected["correction_id"], corrected["settlement_id"], corrected["total"]) == (
        correction["correction_id"],
        correction["settlement_id"],
        correction["total"],
    )
    assert correction["consumption_kwh"] == "-13.200"


async def test_each_charge_line_names_its_datahub_charges_golden_gm01(rig: Rig) -> None:
    """settlement.completed says per charge line which DataHub charge it is and what it came
    to (6 decimals), which reconciliation compares with RSM-019; the line is that rounded."""
    scenario, _ = golden("GM01")
    await given(rig, scenario)
    await rig.run("2025-01")
    [completed] = await rig.outbox("settlement.completed")
    by_code = {line["code"]: line for line in completed["lines"]}
    for code in ("grid_tariff", "system_tariff", "transmission_tariff", "electricity_tax",
                 "grid_subscription"):  # fmt: skip
        charges = by_code[code]["charges"]
        assert len(charges) == 1, code
        exact = Decimal(charges[0]["amount"])
        assert exact.as_tuple().exponent == -6
        assert exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") == Decimal(
            by_code[code]["amount"]
        )
    assert by_code["spot_energy"]["charges"] == []
    assert by_code["grid_subscription"]["charges"][0]["days"] == 31
    assert by_code["grid_subscription"]["charges"][0]["charge_type"] == "D01"


async def test_a_fee_is_billed_in_its_month_and_credited_when_datahub_removes_its_link(
    rig: Rig,
) -> None:
    """Given GM01's January and the grid company's 60.00 DKK fee (D02) linked on 15 January
    with factor 1, the run bills it once on its own line naming the fee charge: subtotal
    623.35 + 60.00 = 683.35, VAT round(170.8375) = 170.84, total 854.19; the bulk run and
    the Decimal path (what a correction settles with) agree. When DataHub removes the link
    (ends it on its start date), the correction credits the fee and its VAT: -75.00."""
    scenario, _ = golden("GM01")
    await given(rig, scenario)

    def fee_link(end: datetime | None) -> ChargeLinkReceivedV1:
        return ChargeLinkReceivedV1(
            datahub_message_id=str(uuid.uuid4()),
            transaction_id=str(uuid.uuid4()),
            gsrn=GSRN,
            owner_gln=GRID,
            charge_type="D02",
            charge_id="GEBYR-FLYT",
            factor=1,
            start=local_midnight(date(2025, 1, 15)),
            end=end,
        )

    await rig.deliver(
        _charge(GRID, "D02", "GEBYR-FLYT", [(date(2024, 1, 1), [Decimal("60.00")], "P1D")]),
        # DataHub's shape of a fee link: one day, from the fee's date to the next.
        fee_link(local_midnight(date(2025, 1, 16))),
    )
    assert (await rig.run("2025-01"))["status"] == "completed"
    [completed] = await rig.outbox("settlement.completed")
    fee_line = completed["lines"][-1]
    assert (fee_line["code"], fee_line["quantity_kwh"], fee_line["days"]) == (
        "grid_fee",
        None,
        None,
    )
    assert fee_line["amount"] == "60.00"
    assert fee_line["charges"] == [
        {
            "charge_type": "D02",
            "charge_owner_gln": GRID,
            "charge_id": "GEBYR-FLYT",
            "quantity_kwh": None,
            "days": None,
            "amount": "60.000000",
        }
    ]
    assert (completed["subtotal"], completed["vat"], completed["total"]) == (
        "683.35",
        "170.84",
        "854.19",
    )
    async with rig.service.database.connection() as conn:
        _, exact = await inputs.load_inputs(conn, GSRN, scenario.period, Decimal("0.25"))
    # The Decimal path's lines, as the event writes them, are the bulk run's.
    decimal_lines = events.line_events(exact.lines, exact.charge_amounts)
    assert [x.model_dump(mode="json") for x in decimal_lines] == completed["lines"]
    await rig.corrections()
    assert await rig.outbox("settlement.correction") == []

    await rig.deliver(fee_link(local_midnight(date(2025, 1, 15))))  # removed
    assert await _queued(rig) == [(GSRN, "charge_links_changed")]
    await rig.corrections()
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "charge_links_changed"
    assert _amount(correction, "grid_fee") == "-60.00"
    [credited] = [x for x in correction["lines"] if x["code"] == "grid_fee"]
    assert [c["amount"] for c in credited["charges"]] == ["-60.000000"]
    assert all(x["amount"] == "0.00" for x in correction["lines"] if x["code"] != "grid_fee")
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "-60.00",
        "-15.00",
        "-75.00",
    )


async def test_two_points_whose_fee_links_start_in_different_months_are_not_priced_alike(
    rig: Rig,
) -> None:
    """A settles with B in one matrix when their prices are the same, but a fee is due on its
    link's start date: A's open-ended fee link from 15 December was December's, B's from
    1 January is January's. Cut to January, both links look alike; January bills B's 60.00
    and not A's again."""
    scenario, _ = golden("GM01")
    other = "571313180000000012"
    events: list[Event] = [
        *portfolio_events(scenario.charges, scenario.period, scenario.consumption.resolution),
        *charge_events(scenario.charges, scenario.period.start),
        *measure_events(scenario.consumption, scenario.period),
    ]
    await rig.deliver(*events)
    await rig.deliver(*twin_events(events, other, "0b5e4a52-6a0e-4e4c-9a57-0c6f1a1f2d12"))
    await pricing.import_spot_file(rig.service.database, spot_file(scenario.spot, scenario.period))

    def fee_link(gsrn: str, start: date) -> ChargeLinkReceivedV1:
        return ChargeLinkReceivedV1(
            datahub_message_id=str(uuid.uuid4()),
            transaction_id=str(uuid.uuid4()),
            gsrn=gsrn,
            owner_gln=GRID,
            charge_type="D02",
            charge_id="GEBYR-FLYT",
            factor=1,
            start=local_midnight(start),
            end=None,
        )

    await rig.deliver(
        _charge(GRID, "D02", "GEBYR-FLYT", [(date(2024, 1, 1), [Decimal("60.00")], "P1D")]),
        fee_link(GSRN, date(2024, 12, 15)),
        fee_link(other, date(2025, 1, 1)),
    )
    assert (await rig.run("2025-01"))["status"] == "completed"
    totals = {e["gsrn"]: e["total"] for e in await rig.outbox("settlement.completed")}
    assert totals == {GSRN: "779.19", other: "854.19"}  # GM01, and GM01 + 60.00 + 15.00 VAT


# -- one run, many workers ---------------------------------------------------------------------
async def given_points(rig: Rig, n: int) -> list[str]:
    """GM01's January for *n* metering points (GSRN and n - 1 twins), spot prices imported;
    returns their GSRNs."""
    scenario, _ = golden("GM01")
    events: list[Event] = [
        *portfolio_events(scenario.charges, scenario.period, scenario.consumption.resolution),
        *charge_events(scenario.charges, scenario.period.start),
        *measure_events(scenario.consumption, scenario.period),
    ]
    await rig.deliver(*events)
    points = [GSRN]
    for k in range(1, n):
        gsrn = gsrn_with_check_digit(f"57131318{k:09d}")
        points.append(gsrn)
        await rig.deliver(*twin_events(events, gsrn, str(uuid.UUID(int=k))))
    assert scenario.spot is not None
    await pricing.import_spot_file(rig.service.database, spot_file(scenario.spot, scenario.period))
    return points


async def _settled_once(rig: Rig, points: Sequence[str]) -> None:
    """Every metering point has one settlement (GM01's 779.19) and one event, none more."""
    rows = await rig.service.database.fetch("SELECT gsrn, total FROM settlement ORDER BY gsrn")
    assert [(r["gsrn"], str(r["total"])) for r in rows] == [(g, "779.19") for g in sorted(points)]
    published = await rig.outbox("settlement.completed")
    assert sorted(e["gsrn"] for e in published) == sorted(points)


async def test_two_workers_share_one_run_and_settle_each_point_once(rig: Rig) -> None:
    # Given January for 8 metering points, and the run planned into chunks of one
    points = await given_points(rig, 8)
    run_id = await runs.start_run(rig.service, "2025-01", None, "api")
    assert await runs.work_once(rig.service, chunk=1, worker="planner")
    assert (
        await rig.service.database.fetchval(
            "SELECT chunks_left FROM settlement_run WHERE run_id = $1", run_id
        )
        == 8
    )

    # When two workers take chunks at the same time
    async def worker(name: str) -> None:
        while await runs.work_once(rig.service, chunk=1, worker=name):
            pass

    await asyncio.gather(worker("a"), worker("b"))

    # Then both settled chunks, each chunk once, and every point is settled once
    done_by = await rig.service.database.fetch(
        "SELECT chunk_no, done_by FROM settlement_run_chunk WHERE run_id = $1", run_id
    )
    assert sorted(r["chunk_no"] for r in done_by) == list(range(8))
    assert {r["done_by"] for r in done_by} == {"a", "b"}
    await _settled_once(rig, points)
    view = await rig.view(run_id)
    assert view["status"] == "completed"
    assert view["progress"] == {
        "total": 8, "done": 8, "settled": 8, "blocked": 0, "already_settled": 0,
    }  # fmt: skip


async def test_a_killed_workers_chunk_is_taken_over(rig: Rig, postgres_dsn: str) -> None:
    # Given January for 4 metering points in chunks of one, and a worker that has claimed
    # the first chunk and settled it, uncommitted, on its own connection
    points = await given_points(rig, 4)
    run_id = await runs.start_run(rig.service, "2025-01", None, "api")
    assert await runs.work_once(rig.service, chunk=1, worker="planner")
    doomed = await asyncpg.connect(
        postgres_dsn, server_settings={"search_path": rig.service.database.schema}
    )
    tx = doomed.transaction()
    await tx.start()
    held = await run_chunks.claim(doomed)
    assert held is not None and held.chunk_no == 0
    vat = rig.service.settings.vat_rate
    settled, _, _ = await runs._settle_chunk(
        rig.service, doomed, run_id, "2025-01", held.supply_period_ids, vat
    )
    assert settled == 1

    # When another worker works meanwhile, it settles every other chunk and skips that one
    while await runs.work_once(rig.service, chunk=1, worker="survivor"):
        pass
    view = await rig.view(run_id)
    assert view["status"] == "running" and view["progress"]["done"] == 3
    assert await rig.service.database.fetchval("SELECT count(*) FROM settlement") == 3

    # And when the first worker dies (its connection gone, as with kill -9)
    doomed.terminate()
    # Then its chunk is free at once: the survivor settles it and finishes the run
    assert await runs.work_once(rig.service, chunk=1, worker="survivor")
    view = await rig.view(run_id)
    assert view["status"] == "completed"
    assert view["progress"]["settled"] == 4 and view["progress"]["done"] == 4
    assert (
        await rig.service.database.fetchval(
            "SELECT done_by FROM settlement_run_chunk WHERE run_id = $1 AND chunk_no = 0", run_id
        )
        == "survivor"
    )
    await _settled_once(rig, points)


async def test_two_runs_of_one_month_at_once_settle_each_point_once(rig: Rig) -> None:
    # Given January for 6 metering points and two runs of it, both planned before either
    # settles anything (chunks of two: each run's chunks hold the same items)
    points = await given_points(rig, 6)
    first = await runs.start_run(rig.service, "2025-01", None, "api")
    second = await runs.start_run(rig.service, "2025-01", None, "cli")
    assert await runs.work_once(rig.service, chunk=2, worker="planner")
    assert await runs.work_once(rig.service, chunk=2, worker="planner")

    # When two workers work through both at the same time
    async def worker(name: str) -> None:
        while await runs.work_once(rig.service, chunk=2, worker=name):
            pass

    await asyncio.gather(worker("a"), worker("b"))

    # Then the unique settlement key let each point be settled once, by one of the runs;
    # the other run counts it as already settled
    await _settled_once(rig, points)
    views = [await rig.view(r) for r in (first, second)]
    assert [v["status"] for v in views] == ["completed", "completed"]
    assert sum(v["progress"]["settled"] for v in views) == 6
    for v in views:
        assert v["progress"]["settled"] + v["progress"]["already_settled"] == 6


def _gm01_twin(k: int) -> tuple[str, list[Event]]:
    """GM01's January events for another metering point (the *k*-th twin) of ours."""
    scenario, _ = golden("GM01")
    events: list[Event] = [
        *portfolio_events(scenario.charges, scenario.period, scenario.consumption.resolution),
        *charge_events(scenario.charges, scenario.period.start),
        *measure_events(scenario.consumption, scenario.period),
    ]
    gsrn = gsrn_with_check_digit(f"57131318{k:09d}")
    return gsrn, twin_events(events, gsrn, str(uuid.UUID(int=k)))


async def test_a_supply_period_arriving_while_its_month_runs_is_settled_after_the_run(
    rig: Rig,
) -> None:
    """The run planned January without it; the recheck waits for the run, then settles it on
    the run's behalf (before, it found no finished run and dropped it: never settled)."""
    await given_points(rig, 2)
    run_id = await runs.start_run(rig.service, "2025-01", None, "api")
    assert await runs.work_once(rig.service, chunk=1, worker="planner")  # planned: 2 chunks
    late, events = _gm01_twin(7)
    await rig.deliver(*events)
    await rig.corrections()
    waiting = await rig.service.database.fetchval(
        "SELECT count(*) FROM settlement_recheck WHERE gsrn = $1", late
    )
    assert waiting == 1  # kept for later, not dropped
    while await runs.work_once(rig.service, chunk=1, worker="w"):
        pass
    await rig.service.database.execute("UPDATE settlement_recheck SET queued_at = now()")
    await rig.corrections()
    view = await rig.view(run_id)
    assert view["status"] == "completed"
    assert view["progress"]["total"] == 3 and view["progress"]["settled"] == 3
    totals = {e["gsrn"]: e["total"] for e in await rig.outbox("settlement.completed")}
    assert totals[late] == "779.19" and len(totals) == 3


async def test_a_day_stored_during_a_recheck_that_settles_is_corrected_after_it(
    rig: Rig,
) -> None:
    """A recheck settling a newly covered period holds the metering-data writers off until
    it commits, so the correction job sees the settlement with the newer day behind it."""
    await given_points(rig, 1)
    await rig.run("2025-01")
    late, events = _gm01_twin(7)
    await rig.deliver(*events)  # queues a recheck of `late`, settled on the run's behalf
    day = next(e for e in events if isinstance(e, MeasureDataReceivedV1))
    corrected = day.model_copy(
        update={
            "datahub_message_id": str(uuid.uuid4()),
            "transaction_id": str(uuid.uuid4()),
            "quantities_kwh": [q * 10 for q in day.quantities_kwh],
        }
    )
    await rig.service.database.execute("DELETE FROM settlement_recheck WHERE gsrn <> $1", late)
    async with rig.service.database.transaction() as tx:  # recheck_some's transaction
        row = await run_store.claim_recheck(tx)
        assert row is not None and row["gsrn"] == late
        await corrections.recheck(rig.service, tx, row["gsrn"], row["reason"])
        writer = asyncio.create_task(rig.deliver(corrected))
        await asyncio.sleep(0.5)
        assert not writer.done()  # DataHub's corrected day waits for the recheck
    await writer
    await rig.corrections()
    settlement = await rig.service.database.fetchrow(
        "SELECT settlement_id, data_id FROM settlement WHERE gsrn = $1", late
    )
    newest = await rig.service.database.fetchval("SELECT max(id) FROM metering_data")
    assert settlement["data_id"] == newest
    assert len(await rig.outbox("settlement.correction")) == 1


async def test_settlements_stored_before_lines_were_kept_once_read_the_same_after(
    make_schema_db: SchemaFactory,
) -> None:
    """Migration 0009 on a populated table: current lines equal to the first ones go (NULL,
    read as the first ones), a corrected settlement keeps its own."""
    from wattline_platform import migrations

    every = migrations.load(migrations.PLATFORM_SQL, "platform") + migrations.load(
        SPEC.migrations_dir, "service"
    )
    db = await make_schema_db(
        [m for m in every if m.name.startswith("service/") and m.name < "service/0009"]
    )
    first = [{"code": "spot_energy", "quantity_kwh": "100.000", "amount": "80.00"}]
    corrected = [{"code": "spot_energy", "quantity_kwh": "110.000", "amount": "88.00"}]
    run_id = uuid.uuid4()
    async with db.connection() as conn:
        await conn.execute(
            """INSERT INTO settlement_run (run_id, billing_period, trigger, status)
               VALUES ($1, '2025-01', 'api', 'completed')""",
            run_id,
        )
        for gsrn, now in ((GSRN, first), ("571313180000000107", corrected)):
            await conn.execute(
                """INSERT INTO settlement (settlement_id, run_id, gsrn, customer_id,
                       supply_period_id, billing_period, grid_area, price_area, period_start,
                       period_end, consumption_kwh, lines, subtotal, vat, total,
                       current_start, current_end, current_lines, current_subtotal,
                       current_vat, current_total, current_consumption_kwh, data_id)
                   VALUES (gen_random_uuid(), $1, $2, gen_random_uuid(), gen_random_uuid(),
                       '2025-01', '344', 'DK1', '2025-01-01', '2025-02-01', 100, $3::jsonb,
                       80, 20, 100, '2025-01-01', '2025-02-01', $4::jsonb, 80, 20, 100, 100, 1)""",
                run_id,
                gsrn,
                json.dumps(first),
                json.dumps(now),
            )
        await migrations.apply(conn, db.schema, every)
        stored = dict(await conn.fetch("SELECT gsrn, current_lines FROM settlement"))
        assert stored[GSRN] is None and json.loads(stored["571313180000000107"]) == corrected
        async with conn.transaction():
            [kept] = await run_store.lock_settlements(conn, GSRN)
            [other] = await run_store.lock_settlements(conn, "571313180000000107")
        assert json.loads(kept["lines_now"]) == first
        assert json.loads(other["lines_now"]) == corrected
