"""Contracts: back office moves a running contract to another product from a date."""

from __future__ import annotations

from datetime import date

import asyncpg

from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.adapters import store
from wattline_portfolio.domain import history as entries
from wattline_portfolio.domain.products import version_to_sign
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.errors import (
    ChangeBeforeStart,
    ContractEnded,
    ContractNotFound,
    ProductNotAvailable,
    RetroactiveChange,
)
from wattline_portfolio.handlers.history import record
from wattline_portfolio.handlers.supply import contract_event


async def change_product(
    p: Portfolio, contract_id: str, product_id: str, from_date: date
) -> asyncpg.Record:
    """Move a running contract to another product (or its current version) from a date: the
    old contract ends, a new one starts with the version in force on that date."""
    today = await p.today()
    if from_date < today:
        raise RetroactiveChange(str(from_date))
    async with p.service.database.transaction() as tx:
        # The period before its contracts: the order supply changes lock them in.
        await store.lock_period_of_contract(tx, contract_id)
        old = await store.contract(tx, contract_id, for_update=True)
        if old is None:
            raise ContractNotFound(contract_id)
        if old["end_date"] is not None and old["end_date"] <= from_date:
            raise ContractEnded(contract_id)
        if from_date <= old["start_date"]:
            raise ChangeBeforeStart()
        version = version_to_sign(await product_store.get(tx, product_id), from_date)
        if version is None:
            raise ProductNotAvailable(product_id)
        ended = await store.update_contract(tx, old["contract_id"], end_date=from_date)
        new = await store.insert_contract(
            tx,
            supply_period_id=str(old["supply_period_id"]),
            gsrn=old["gsrn"],
            customer_id=str(old["customer_id"]),
            payer_id=None if old["payer_id"] is None else str(old["payer_id"]),
            product_id=product_id,
            product_version=version.version,
            start_date=from_date,
            billing_frequency=old["billing_frequency"],
            payment_model=old["payment_model"],
        )
        if old["end_date"] is not None:
            new = await store.update_contract(tx, new["contract_id"], end_date=old["end_date"])
        await record(
            tx,
            str(old["customer_id"]),
            entries.product_changed(
                str(new["contract_id"]),
                old["gsrn"],
                await product_store.name_of(tx, product_id),
                version.version,
                from_date,
            ),
        )
        await p.service.emit_many(
            tx, [(contract_event(ended), old["gsrn"]), (contract_event(new), old["gsrn"])]
        )
    return new
