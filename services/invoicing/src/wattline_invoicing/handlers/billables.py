"""What settlement settled and corrected, stored once as it was published."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.settlement import (
    SettlementCompletedV1,
    SettlementCorrectionV1,
    SettlementLineV1,
)
from wattline_platform.logging import get_logger

from wattline_invoicing.adapters import billables
from wattline_invoicing.domain.invoice import Billable, SettledLine

log = get_logger(__name__)


def _lines(lines: list[SettlementLineV1]) -> tuple[SettledLine, ...]:
    return tuple(
        SettledLine(line.code, line.quantity_kwh, line.days, line.unit_price, line.amount)
        for line in lines
    )


def _billable(
    event: SettlementCompletedV1 | SettlementCorrectionV1,
    source_id: str,
    kind: Literal["settlement", "correction"],
    vat_rate: Decimal,
    corrects: str | None,
) -> Billable:
    return Billable(
        source_id=source_id,
        kind=kind,
        gsrn=event.gsrn,
        billing_period=event.billing_period,
        period_start=event.period_start,
        period_end=event.period_end,
        consumption_kwh=event.consumption_kwh,
        lines=_lines(event.lines),
        subtotal=event.subtotal,
        vat=event.vat,
        total=event.total,
        vat_rate=vat_rate,
        corrects=corrects,
    )


async def on_settlement_completed(
    tx: asyncpg.Connection, event: SettlementCompletedV1, envelope: Envelope
) -> None:
    """Store a settled period to bill. Figures that do not add up are refused (the message
    is dead-lettered with the reason) rather than billed."""
    del envelope
    billable = _billable(event, event.settlement_id, "settlement", event.vat_rate, None)
    billable.check()
    await billables.insert(tx, billable, event.customer_id)


def on_settlement_correction(
    default_vat_rate: Decimal,
) -> Callable[[asyncpg.Connection, SettlementCorrectionV1, Envelope], Coroutine[Any, Any, None]]:
    """Store a correction (a delta to a settlement) to bill or credit, at the VAT rate of
    the settlement it corrects (*default_vat_rate* when that one is unknown here)."""

    async def handle(
        tx: asyncpg.Connection, event: SettlementCorrectionV1, envelope: Envelope
    ) -> None:
        del envelope
        rate = await billables.vat_rate_of(tx, event.settlement_id) or default_vat_rate
        billable = _billable(event, event.correction_id, "correction", rate, event.settlement_id)
        billable.check()
        if billable.bills_nothing():  # not a 0.00 credit note or 0.00 lines on a bill
            log.info("correction_bills_nothing", correction_id=event.correction_id)
            return
        await billables.insert(tx, billable, event.customer_id)

    return handle
