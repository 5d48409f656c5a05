"""The events settlement publishes, from what the domain settled: ``settlement.completed``
(:func:`completed`) and the lines of it and of ``settlement.correction`` (:func:`line_events`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from wattline_contracts.settlement import (
    ChargeAmountV1,
    ProductUsedV1,
    SettlementCompletedV1,
    SettlementLineV1,
)

from wattline_settlement.domain.billing import Item
from wattline_settlement.domain.model import ChargeAmount, Line, Result, unit_price
from wattline_settlement.handlers.inputs import Inputs


def _charge_events(code: str, amounts: Sequence[ChargeAmount]) -> list[ChargeAmountV1]:
    return [
        ChargeAmountV1(
            charge_type=a.charge_type,
            charge_owner_gln=a.owner_gln,
            charge_id=a.charge_id,
            quantity_kwh=a.quantity_kwh,
            days=a.days,
            amount=a.amount,
        )
        for a in amounts
        if a.code == code
    ]


def line_events(
    lines: Sequence[Line], amounts: Sequence[ChargeAmount] = ()
) -> list[SettlementLineV1]:
    """The lines as an event carries them, each with its unit price and its charges'."""
    return [
        SettlementLineV1(
            code=line.code,
            quantity_kwh=line.quantity_kwh,
            days=line.days,
            amount=line.amount,
            unit_price=unit_price(line),
            charges=_charge_events(line.code, amounts),
        )
        for line in lines
    ]


def completed(
    row: dict[str, Any], item: Item, inputs: Inputs, result: Result, vat_rate: Decimal
) -> SettlementCompletedV1:
    """The event of a new settlement (*row* as stored)."""
    return SettlementCompletedV1(
        settlement_id=str(row["settlement_id"]),
        run_id=str(row["run_id"]),
        gsrn=item.gsrn,
        customer_id=item.customer_id,
        supply_period_id=item.supply_period_id,
        billing_period=row["billing_period"],
        period_start=item.period.start,
        period_end=item.period.end,
        grid_area=inputs.grid_area,
        price_area=inputs.price_area,
        resolution=inputs.resolution,
        products=[
            ProductUsedV1(
                product_id=p.product_id,
                product_version=p.version,
                start_date=p.start,
                end_date=p.end,
            )
            for p in inputs.products
        ],
        consumption_kwh=result.consumption_kwh,
        lines=line_events(result.lines, result.charge_amounts),
        subtotal=result.subtotal,
        vat_rate=vat_rate,
        vat=result.vat,
        total=result.total,
    )
