"""Billing accounts and contracts, kept in step with the portfolio's events."""

from __future__ import annotations

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.portfolio import (
    ContractChangedV1,
    CustomerActivatedV1,
    CustomerOffboardedV1,
    ProductVersionPublishedV1,
)

from wattline_invoicing.adapters import accounts, bills


async def on_customer_activated(
    tx: asyncpg.Connection, event: CustomerActivatedV1, envelope: Envelope
) -> None:
    """One billing account per payer: the separate payer when there is one, else the
    customer. The customer's own account is kept too (a later contract may bill it)."""
    del envelope
    await accounts.upsert_account(tx, event.customer)
    if event.payer is not None:
        await accounts.upsert_account(tx, event.payer)


async def on_contract_changed(
    tx: asyncpg.Connection, event: ContractChangedV1, envelope: Envelope
) -> None:
    del envelope
    await accounts.upsert_contract(tx, event)


async def on_customer_offboarded(
    tx: asyncpg.Connection, event: CustomerOffboardedV1, envelope: Envelope
) -> None:
    """The supply ended: its contracts end with it (the final settlement follows)."""
    del envelope
    await accounts.end_contracts(tx, event.gsrn, event.customer_id, event.end_date)


async def on_product_version_published(
    tx: asyncpg.Connection, event: ProductVersionPublishedV1, envelope: Envelope
) -> None:
    """A product's name, to print the product on the bill."""
    del envelope
    await bills.upsert_product(tx, event.product_id, event.version, event.name)
