"""Wholesale reconciliation, in the business's words: given what our settlements billed per
DataHub charge in a grid area and month (corrections added), when DataHub's RSM-019 arrives,
then each charge is matched or reported with its deviation in DKK."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from wattline_contracts.datahub import WholesalePointV1, WholesaleServicesReceivedV1
from wattline_contracts.settlement import (
    ChargeAmountV1,
    SettlementCompletedV1,
    SettlementCorrectionV1,
    SettlementLineV1,
)
from wattline_reconciliation.handlers import wholesale

CPH = ZoneInfo("Europe/Copenhagen")
GRID = "5799994103443"
ENERGINET = "5790000432752"
SUPPLIER = "5790001330583"
D = Decimal


def _line(code: str, amount: str, charges: list[tuple[str, str, str, str]]) -> SettlementLineV1:
    return SettlementLineV1(
        code=code,
        quantity_kwh=None if code == "grid_subscription" else D("100.000"),
        days=31 if code == "grid_subscription" else None,
        amount=D(amount),
        charges=[
            ChargeAmountV1(charge_type=t, charge_owner_gln=o, charge_id=i, amount=D(a))  # type: ignore[arg-type]
            for t, o, i, a in charges
        ],
    )


def settled(gsrn: str, time_tariff: str, transmission: str) -> SettlementCompletedV1:
    return SettlementCompletedV1(
        settlement_id=str(uuid.uuid4()),
        run_id=str(uuid.uuid4()),
        gsrn=gsrn,
        customer_id=str(uuid.uuid4()),
        supply_period_id=str(uuid.uuid4()),
        billing_period="2026-01",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 2, 1),
        grid_area="344",
        price_area="DK1",
        resolution="PT1H",
        products=[],
        consumption_kwh=D("100.000"),
        lines=[
            _line("grid_tariff", time_tariff, [("D03", GRID, "NT-C-TIME", time_tariff)]),
            _line("transmission_tariff", transmission, [("D03", ENERGINET, "40000", transmission)]),
            _line("grid_subscription", "21.25", [("D01", GRID, "NT-ABON", "21.250000")]),
        ],
        subtotal=D("0"),
        vat_rate=D("0.25"),
        vat=D("0"),
        total=D("0"),
    )


def datahub(owner: str, charge_type: str, charge_id: str, amounts: list[str]) -> Any:
    return WholesaleServicesReceivedV1(
        datahub_message_id=str(uuid.uuid4()),
        transaction_id=str(uuid.uuid4()),
        grid_area="344",
        energy_supplier_gln=SUPPLIER,
        charge_type=charge_type,  # type: ignore[arg-type]
        charge_id=charge_id,
        charge_owner_gln=owner,
        quantity_unit="KWH",
        resolution="P1D",
        start=datetime.combine(date(2026, 1, 1), time(0), tzinfo=CPH),
        end=datetime.combine(date(2026, 1, 3), time(0), tzinfo=CPH),
        points=[WholesalePointV1(position=i + 1, amount=D(a)) for i, a in enumerate(amounts)],
    )


async def test_an_injected_charge_deviation_is_reported_with_its_size_and_the_rest_matched(
    rig: Any,
) -> None:
    a, b = (
        settled("571313100000000001", "40.123456", "7.400000"),
        settled("571313100000000002", "10.000004", "2.600000"),
    )
    await rig.deliver(a)
    await rig.deliver(b)
    # A correction of a: 0.5 DKK more grid tariff (newer metering data).
    await rig.deliver(
        SettlementCorrectionV1(
            correction_id=str(uuid.uuid4()),
            settlement_id=a.settlement_id,
            gsrn=a.gsrn,
            customer_id=a.customer_id,
            billing_period="2026-01",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 2, 1),
            reason="metering_data_corrected",
            consumption_kwh=D("1.000"),
            lines=[_line("grid_tariff", "0.50", [("D03", GRID, "NT-C-TIME", "0.500000")])],
            subtotal=D("0.50"),
            vat=D("0.13"),
            total=D("0.63"),
        )
    )
    # DataHub: the grid tariff as we billed it (50.623460) to the øre, the transmission
    # tariff 2.500 DKK higher than we billed (10.000), the subscription 2 x 21.25.
    await rig.deliver(datahub(GRID, "D03", "NT-C-TIME", ["25.31", "25.313460"]))
    await rig.deliver(datahub(ENERGINET, "D03", "40000", ["6.25", "6.25"]))
    await rig.deliver(datahub(GRID, "D01", "NT-ABON", ["42.50"]))
    await rig.deliver(datahub(ENERGINET, "D03", "41000", ["3.00"]))  # we billed none
    assert await wholesale.reconcile_pending(rig.rec) == 1

    page = (await rig.client.get("/api/reconciliation/wholesale?period=2026-01")).json()
    by_id = {r["charge_id"]: r for r in page["items"]}
    assert {k: r["status"] for k, r in by_id.items()} == {
        "NT-C-TIME": "matched",
        "40000": "deviation",
        "NT-ABON": "matched",
        "41000": "missing_ours",
    }
    assert D(by_id["NT-C-TIME"]["ours_dkk"]) == D("50.623460")
    deviation = by_id["40000"]
    assert (D(deviation["datahub_dkk"]), D(deviation["ours_dkk"])) == (D("12.5"), D("10"))
    assert D(deviation["deviation_dkk"]) == D("-2.5")
    assert D(deviation["deviation_percent"]) == D("-20.00")

    [event] = await rig.events("reconciliation.wholesale_deviation.detected")
    assert (event["charge_owner_gln"], event["charge_id"], event["grid_area"]) == (
        ENERGINET,
        "40000",
        "344",
    )
    assert D(event["deviation_dkk"]) == D("-2.5")
    assert D(event["tolerance_dkk"]) == D("0.10")

    only = (
        await rig.client.get("/api/reconciliation/wholesale?grid_area=344&status=deviation")
    ).json()
    assert [r["charge_id"] for r in only["items"]] == ["40000"]
    detail = (
        await rig.client.get(f"/api/reconciliation/wholesale/344/2026-01/{GRID}/D03/NT-C-TIME")
    ).json()
    assert sorted(D(s["amount_dkk"]) for s in detail["settlements"]) == [
        D("10.000004"),
        D("40.623456"),
    ]

    # Reconciled again with nothing new: the deviation is not raised twice.
    await rig.deliver(datahub(ENERGINET, "D03", "40000", ["6.25", "6.25"]))
    assert await wholesale.reconcile_pending(rig.rec) == 1
    assert len(await rig.events("reconciliation.wholesale_deviation.detected")) == 1


async def test_a_deviation_from_a_tiny_datahub_amount_is_stored_with_its_huge_percentage(
    rig: Any,
) -> None:
    # Ours 7.400000 against DataHub's 0.000001: -7.399999 DKK is 739,999,900 % of DataHub's.
    await rig.deliver(settled("571313100000000003", "40.000000", "7.400000"))
    await rig.deliver(datahub(ENERGINET, "D03", "40000", ["0.000001"]))
    assert await wholesale.reconcile_pending(rig.rec) == 1
    page = (await rig.client.get("/api/reconciliation/wholesale?period=2026-01")).json()
    row = next(r for r in page["items"] if r["charge_id"] == "40000")
    assert row["status"] == "deviation"
    assert D(row["deviation_dkk"]) == D("7.399999")
    assert D(row["deviation_percent"]) == D("739999900.00")


async def test_bad_wholesale_queries_are_4xx_problems(rig: Any) -> None:
    for url in (
        "/api/reconciliation/wholesale?period=2026-13",
        "/api/reconciliation/wholesale?after=%21%21",
        "/api/reconciliation/wholesale/344/2026-01/x/D09/y",
        "/api/reconciliation/wholesale/344/2026-01/5790000432752/D03/nothing",
    ):
        response = await rig.client.get(url)
        assert 400 <= response.status_code < 500, url
        assert response.headers["content-type"].startswith("application/problem+json"), url
