"""Wholesale reconciliation as reviewed: several RSM-019 series of one charge add up, a newer
calculation replaces an older one (never the other way round), one bad month does not hold
back the others, a settlement settled again replaces what it billed, and a series crossing a
month end is filed under the month of each position."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from wattline_contracts.datahub import WholesalePointV1, WholesaleServicesReceivedV1
from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.settlement import ChargeAmountV1, SettlementCompletedV1, SettlementLineV1
from wattline_reconciliation.adapters import wholesale as wholesale_store
from wattline_reconciliation.domain.wholesale import amounts_by_month, series_rank
from wattline_reconciliation.handlers import wholesale

CPH = ZoneInfo("Europe/Copenhagen")
ENERGINET = "5790000432752"
SUPPLIER = "5790001330583"
D = Decimal


async def deliver(rig: Any, event: Event, occurred_at: datetime | None = None) -> None:
    """As the consumer hands an event to its handler, raised at *occurred_at*."""
    _, handler = rig.rec.service.consumer.routes[(event.TYPE, event.VERSION)]
    envelope = Envelope.wrap(
        event, key="k", producer="test", correlation_id="test", occurred_at=occurred_at
    )
    async with rig.rec.service.database.transaction() as tx:
        await handler(tx, event, envelope)


def settled(
    transmission: str, *, grid_area: str = "344", settlement_id: str | None = None, month: int = 1
) -> SettlementCompletedV1:
    """One metering point's settlement: Energinet's transmission tariff only."""
    return SettlementCompletedV1(
        settlement_id=settlement_id or str(uuid.uuid4()),
        run_id=str(uuid.uuid4()),
        gsrn="571313100000000001",
        customer_id=str(uuid.uuid4()),
        supply_period_id=str(uuid.uuid4()),
        billing_period=f"2026-{month:02d}",
        period_start=date(2026, month, 1),
        period_end=date(2026, month + 1, 1),
        grid_area=grid_area,
        price_area="DK1",
        resolution="PT1H",
        products=[],
        consumption_kwh=D("100.000"),
        lines=[
            SettlementLineV1(
                code="transmission_tariff",
                quantity_kwh=D("100.000"),
                days=None,
                amount=D(transmission),
                charges=[
                    ChargeAmountV1(
                        charge_type="D03",
                        charge_owner_gln=ENERGINET,
                        charge_id="40000",
                        amount=D(transmission),
                    )
                ],
            )
        ],
        subtotal=D("0"),
        vat_rate=D("0.25"),
        vat=D("0"),
        total=D("0"),
    )


def rsm019(
    amounts: list[str],
    *,
    method: str = "D01",
    version: str | None = "1",
    grid_area: str = "344",
    start: date = date(2026, 1, 1),
    resolution: str = "P1D",
) -> WholesaleServicesReceivedV1:
    """DataHub's transmission tariff of one series, one amount per local day."""
    first = datetime.combine(start, time(0), tzinfo=CPH)
    return WholesaleServicesReceivedV1(
        datahub_message_id=str(uuid.uuid4()),
        transaction_id=str(uuid.uuid4()),
        calculation_version=version,
        grid_area=grid_area,
        energy_supplier_gln=SUPPLIER,
        metering_point_type="E17",
        settlement_method=method,
        charge_type="D03",
        charge_id="40000",
        charge_owner_gln=ENERGINET,
        quantity_unit="KWH",
        resolution=resolution,
        start=first,
        end=datetime.combine(start + timedelta(days=len(amounts)), time(0), tzinfo=CPH),
        points=[WholesalePointV1(position=i + 1, amount=D(a)) for i, a in enumerate(amounts)],
    )


async def result(rig: Any, period: str = "2026-01", grid_area: str = "344") -> dict[str, Any]:
    page = (
        await rig.client.get(
            "/api/reconciliation/wholesale", params={"period": period, "grid_area": grid_area}
        )
    ).json()
    [row] = page["items"]
    return dict(row)


async def test_several_series_of_one_charge_add_up(rig: Any) -> None:
    await deliver(rig, settled("7.400000"))
    # Flex (D01) and non-profiled (E02) consumption: two series of Energinet's tariff.
    await deliver(rig, rsm019(["2.50", "2.50"], method="D01"))
    await deliver(rig, rsm019(["1.20", "1.20"], method="E02"))
    assert await wholesale.reconcile_pending(rig.rec) == 1
    row = await result(rig)
    assert (row["status"], D(row["datahub_dkk"]), D(row["ours_dkk"])) == (
        "matched",
        D("7.40"),
        D("7.4"),
    )


async def test_a_newer_calculation_replaces_an_older_one_never_the_reverse(rig: Any) -> None:
    await deliver(rig, settled("7.400000"))
    await deliver(rig, rsm019(["3.70", "3.70"], version="2"))
    await deliver(rig, rsm019(["50.00", "49.00"], version="1"))  # older, arriving late
    assert await wholesale.reconcile_pending(rig.rec) == 1
    assert (await result(rig))["status"] == "matched"
    await deliver(rig, rsm019(["4.20", "4.20"], version="3"))  # DataHub recalculated
    assert await wholesale.reconcile_pending(rig.rec) == 1
    row = await result(rig)
    assert (row["status"], D(row["datahub_dkk"]), D(row["deviation_dkk"])) == (
        "deviation",
        D("8.40"),
        D("-1.000000"),
    )
    assert series_rank(None, "10") > series_rank(None, "9") > series_rank(None, None)
    assert series_rank("D01", "1") > series_rank(None, "7")  # a correction settlement first


async def test_one_failing_month_does_not_roll_back_the_others(
    rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await deliver(rig, settled("7.400000", grid_area="344"))
    await deliver(rig, settled("5.100000", grid_area="131"))
    await deliver(rig, rsm019(["7.40"], grid_area="344"))
    await deliver(rig, rsm019(["5.10"], grid_area="131"))
    load_month = wholesale_store.load_month

    async def broken(tx: Any, grid_area: str, month: str) -> Any:
        if grid_area == "131":
            raise RuntimeError("a bad month")
        return await load_month(tx, grid_area, month)

    monkeypatch.setattr(wholesale_store, "load_month", broken)
    assert await wholesale.reconcile_pending(rig.rec) == 1  # 344; 131 failed alone
    assert (await result(rig, grid_area="344"))["status"] == "matched"
    monkeypatch.setattr(wholesale_store, "load_month", load_month)
    assert await wholesale.reconcile_pending(rig.rec) == 1  # 131 was still pending
    assert (await result(rig, grid_area="131"))["status"] == "matched"


async def test_a_settlement_settled_again_replaces_what_it_billed(rig: Any) -> None:
    t0 = datetime(2026, 2, 5, 6, tzinfo=UTC)
    first = settled("7.400000")
    again = settled("9.400000", settlement_id=first.settlement_id)
    await deliver(rig, first, t0)
    await deliver(rig, again, t0 + timedelta(hours=1))
    await deliver(rig, first, t0 - timedelta(hours=1))  # an older copy, redelivered late
    await deliver(rig, rsm019(["4.70", "4.70"]))
    assert await wholesale.reconcile_pending(rig.rec) == 1
    row = await result(rig)
    assert (row["status"], D(row["ours_dkk"])) == ("matched", D("9.4"))


async def test_a_series_across_a_month_end_is_filed_per_position(rig: Any) -> None:
    await deliver(rig, settled("1.000000", month=1))
    await deliver(rig, settled("2.500000", month=2))
    # 31 January and 1-2 February local: 1.00 DKK in January, 1.25 + 1.25 in February.
    await deliver(rig, rsm019(["1.00", "1.25", "1.25"], start=date(2026, 1, 31)))
    assert await wholesale.reconcile_pending(rig.rec) == 2
    for period, amount in (("2026-01", "1.00"), ("2026-02", "2.50")):
        row = await result(rig, period=period)
        assert (row["status"], D(row["datahub_dkk"])) == ("matched", D(amount)), row


def test_positions_are_placed_in_the_local_month_they_start_in() -> None:
    # PT1H from 31 January 22:00 UTC (23:00 local): position 1 is January, 2 is February.
    start = datetime(2026, 1, 31, 22, tzinfo=UTC)
    assert amounts_by_month(start, "PT1H", [(1, D("0.10")), (2, D("0.20")), (3, None)]) == {
        "2026-01": D("0.10"),
        "2026-02": D("0.20"),
    }
    # P1M from 1 December local: December, then January of the next year.
    december = datetime(2025, 11, 30, 23, tzinfo=UTC)
    assert amounts_by_month(december, "P1M", [(1, D("21.25")), (2, D("21.25"))]) == {
        "2025-12": D("21.25"),
        "2026-01": D("21.25"),
    }
