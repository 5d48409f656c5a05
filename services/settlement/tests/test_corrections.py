"""Corrections the totals alone would miss: money moved between two charges of one line, and
an RSM-012 correction that carries only some hours of a day (given GM01's January settled)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from wattline_contracts.datahub import ChargeLinkReceivedV1
from wattline_platform.testing import identity_auth, serve_app
from wattline_settlement.adapters import metering_data
from wattline_settlement.domain.charge_rules import local_midnight

from .test_runs import (
    GRID,
    GSRN,
    Rig,
    _charge,
    _queued,
    _settled_january,
    given,
    golden,
    measure_events,
    rig,
)

__all__ = ["rig"]  # the fixture, imported for the tests below


def _line(payload: dict[str, Any], code: str) -> dict[str, Any]:
    [line] = [x for x in payload["lines"] if x["code"] == code]
    return line


def _charges(line: dict[str, Any]) -> dict[str, str]:
    return {c["charge_id"]: c["amount"] for c in line["charges"]}


async def test_money_moved_between_two_grid_tariffs_is_a_correction(rig: Rig) -> None:
    # Given GM01's January (409.200 kWh; grid tariff NET-T 0.06/0.18/0.54 by hour, 103.42)
    # with a second tariff of the same grid company, NET-T2 at 0.10 DKK/kWh, linked all month
    scenario, _ = golden("GM01")
    await given(rig, scenario)
    tariff = scenario.charges.grid_tariff[0].hourly
    assert tariff is not None
    await rig.deliver(
        _charge(GRID, "D03", "NET-T2", [(date(2025, 1, 1), [Decimal("0.10")] * 24, "PT1H")]),
        ChargeLinkReceivedV1(
            datahub_message_id=str(uuid.uuid4()),
            transaction_id=str(uuid.uuid4()),
            gsrn=GSRN,
            owner_gln=GRID,
            charge_type="D03",
            charge_id="NET-T2",
            factor=1,
            start=local_midnight(date(2024, 1, 1)),
        ),
    )
    assert (await rig.run("2025-01"))["status"] == "completed"
    [completed] = await rig.outbox("settlement.completed")
    grid = _line(completed, "grid_tariff")
    # 103.4160 + 409.2 x 0.10 = 40.92: 144.336 -> 144.34
    assert grid["amount"] == "144.34"
    assert _charges(grid) == {"NET-T": "103.416000", "NET-T2": "40.920000"}
    await rig.corrections()
    assert await rig.outbox("settlement.correction") == []
    # When the grid company corrects both from 1 January: NET-T 0.05 lower every hour,
    # NET-T2 0.05 higher (0.15): the line's total stays 144.34
    lower = [price - Decimal("0.05") for price in tariff]
    await rig.deliver(
        _charge(GRID, "D03", "NET-T", [(date(2025, 1, 1), lower, "PT1H")]),
        _charge(GRID, "D03", "NET-T2", [(date(2025, 1, 1), [Decimal("0.15")] * 24, "PT1H")]),
    )
    assert await _queued(rig) == [(GSRN, "charge_prices_changed")]
    await rig.corrections()
    # Then a correction is published: 409.2 x 0.05 = 20.46 moved from NET-T to NET-T2, every
    # line and the totals unchanged
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "charge_prices_changed"
    moved = _line(correction, "grid_tariff")
    assert (moved["amount"], moved["quantity_kwh"]) == ("0.00", "0.000")
    assert _charges(moved) == {"NET-T": "-20.460000", "NET-T2": "20.460000"}
    assert {line["amount"] for line in correction["lines"]} == {"0.00"}
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "0.00",
        "0.00",
        "0.00",
    )
    # and the settlement now stands at the new split: a recheck finds nothing more
    await rig.deliver(
        _charge(GRID, "D03", "NET-T2", [(date(2025, 1, 1), [Decimal("0.15")] * 24, "PT1H")])
    )
    await rig.corrections()
    assert len(await rig.outbox("settlement.correction")) == 1
    # Changing no line's amount, the correction is nothing to invoice (invoicing bills nothing
    # for it, so nothing would ever mark it): it is not in the uninvoiced view, the settlement
    # is (last: the app's shutdown closes the pool)
    async with (
        serve_app(rig.service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as api,
    ):
        uninvoiced = (await api.get("/api/settlements/uninvoiced")).json()
    assert [s["settlement_id"] for s in uninvoiced["settlements"]] == [completed["settlement_id"]]
    assert uninvoiced["adjustments"] == []


async def test_a_partial_correction_of_four_hours_corrects_exactly_those_hours(rig: Rig) -> None:
    # Given GM01's January settled (0.500 kWh an hour from 10:00 to 14:00 local, spot 0.85,
    # grid tariff 0.18 there), 15 January sent whole
    scenario = await _settled_january(rig)
    [whole] = [e for e in measure_events(scenario.consumption, scenario.period)
               if e.local_date == date(2025, 1, 15)]  # fmt: skip
    before = [metering_data.wh_of(q) for q in whole.quantities_kwh]
    assert before[10:14] == [500, 500, 500, 500]
    # When DataHub corrects 10:00-14:00 local (09:00Z-13:00Z) alone to 1.500 kWh an hour: the
    # datahub service publishes the day with the 20 hours it did not receive without value
    # and without quality (a value DataHub sends as missing has quality A02)
    quantities: list[Decimal | None] = [None] * 24
    qualities: list[str | None] = [None] * 24
    quantities[10:14] = [Decimal("1.500")] * 4
    qualities[10:14] = ["A04"] * 4
    part = whole.model_copy(
        update={
            "datahub_message_id": str(uuid.uuid4()),
            "transaction_id": str(uuid.uuid4()),
            "original_transaction_id": whole.transaction_id,
            "quantities_kwh": quantities,
            "qualities": qualities,
        }
    )
    await rig.deliver(part)
    # Then the stored day is the old one with those four hours replaced, none missing
    async with rig.service.database.connection() as conn:
        versions = await metering_data.day_versions(conn, GSRN, date(2025, 1, 15))
    day = versions[-1]
    assert [v.version for v in versions] == [1, 2]
    assert list(day.wh) == [*before[:10], 1500, 1500, 1500, 1500, *before[14:]]
    assert day.qualities == ("A04",) * 24
    assert day.datahub_message_id == part.datahub_message_id
    # and the recheck corrects exactly those hours: 4 x 1.000 = 4.000 kWh more,
    # spot 4.000 x 0.85 = 3.40, margin 4.000 x 0.04 = 0.16, grid tariff 4.000 x 0.18 = 0.72
    await rig.corrections()
    [correction] = await rig.outbox("settlement.correction")
    assert correction["reason"] == "metering_data_corrected"
    assert correction["consumption_kwh"] == "4.000"
    assert (correction["period_start"], correction["period_end"]) == ("2025-01-01", "2025-02-01")
    deltas = {line["code"]: (line["quantity_kwh"], line["amount"]) for line in correction["lines"]}
    assert deltas["spot_energy"] == ("4.000", "3.40")
    assert deltas["supplier_margin"] == ("4.000", "0.16")
    assert deltas["grid_tariff"] == ("4.000", "0.72")
    # system 0.054, transmission 0.049, tax 0.008 DKK/kWh on 413.200 instead of 409.200 kWh:
    # 22.3128 - 22.0968 -> 22.31 - 22.10, 20.2468 - 20.0508 -> 20.25 - 20.05, 3.3056 - 3.2736
    assert deltas["system_tariff"] == ("4.000", "0.21")
    assert deltas["transmission_tariff"] == ("4.000", "0.20")
    assert deltas["electricity_tax"] == ("4.000", "0.04")
    assert deltas["grid_subscription"] == (None, "0.00")
    # subtotal 623.35 + 4.73 = 628.08, VAT 157.02 (155.84 before): 1.18 more, total 5.91
    assert (correction["subtotal"], correction["vat"], correction["total"]) == (
        "4.73",
        "1.18",
        "5.91",
    )


async def test_a_day_sent_in_part_is_laid_over_the_version_before_it_in_the_same_batch(
    rig: Rig,
) -> None:
    # Given a whole day (1.000 kWh an hour) and, in the same batch, a correction of four hours
    # of which DataHub sends one as missing (no value, quality A02)
    day = date(2025, 1, 15)
    whole = metering_data.MeasureDay(
        GSRN, day, "PT1H", (1000,) * 24, (4,) * 24, "m-1", "t-1", None, uuid.uuid4()
    )
    wh: list[int | None] = [None] * 24
    qualities: list[int | None] = [None] * 24
    wh[10:14], qualities[10:14] = [2000, 2000, 2000, None], [4, 4, 4, 2]
    part = metering_data.MeasureDay(
        GSRN, day, "PT1H", tuple(wh), tuple(qualities), "m-2", "t-2", "t-1", uuid.uuid4()
    )
    async with rig.service.database.transaction() as tx:
        stored = await metering_data.store(tx, [whole, part])
        versions = await metering_data.day_versions(tx, GSRN, day)
    # Then the correction keeps the 20 hours it did not carry, and the missing hour is missing
    assert [change.version for change in stored] == [1, 2]
    assert versions[1].wh == (1000,) * 10 + (2000, 2000, 2000, None) + (1000,) * 10
    assert versions[1].qualities == ("A04",) * 13 + ("A02",) + ("A04",) * 10
    # and a day sent in part at another resolution than the stored one is not mixed with it
    quarters = metering_data.MeasureDay(
        GSRN, day, "PT15M", (250,) + (None,) * 95, (4,) + (None,) * 95, "m-3", "t-3", None,
        uuid.uuid4(),
    )  # fmt: skip
    async with rig.service.database.transaction() as tx:
        await metering_data.store(tx, [quarters])
        latest = (await metering_data.day_versions(tx, GSRN, day))[-1]
    assert latest.wh == (250,) + (None,) * 95
