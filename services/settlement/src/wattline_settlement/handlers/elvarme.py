"""Elvarme (electric heating): its registration and the reduced electricity tax rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from wattline_platform.db import Database

from wattline_settlement.adapters import elvarme, runs


async def register_elvarme(
    db: Database, gsrn: str, from_date: date, opening_kwh: Decimal, threshold_kwh: Decimal
) -> None:
    """Register (or replace) *gsrn*'s elvarme. It is master data: the metering point's
    settled periods are rechecked, as they may change."""
    async with db.transaction() as tx:
        await elvarme.register(tx, gsrn, from_date, opening_kwh, threshold_kwh)
        await runs.queue_recheck(tx, [gsrn], "master_data_changed")


async def set_reduced_tax(db: Database, valid_from: date, dkk_per_kwh: Decimal) -> None:
    """The reduced electricity tax rate (elvarme) from *valid_from*."""
    async with db.transaction() as tx:
        await elvarme.set_reduced_tax(tx, valid_from, dkk_per_kwh)
