"""SQL for billing accounts and the contracts that say who pays for which metering point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg
from wattline_contracts.portfolio import ContractChangedV1, Party


@dataclass(frozen=True)
class Account:
    account_id: str
    account_number: int
    contact_type: str
    cpr_cvr_masked: str
    party_sealed: str


async def upsert_account(tx: asyncpg.Connection, party: Party) -> None:
    """Create the billing account of *party* or refresh what we know of it (the newest
    activation's name and address: the portfolio sends the party whole each time)."""
    await tx.execute(
        """INSERT INTO billing_account (account_id, contact_type, cpr_cvr_masked, party_sealed)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (account_id) DO UPDATE SET contact_type = EXCLUDED.contact_type,
               cpr_cvr_masked = EXCLUDED.cpr_cvr_masked, party_sealed = EXCLUDED.party_sealed,
               updated_at = now()""",
        party.party_id,
        party.contact_type,
        party.cpr_cvr_masked,
        party.sealed,
    )


async def upsert_contract(tx: asyncpg.Connection, event: ContractChangedV1) -> None:
    """The contract as the portfolio last described it (events carry the whole state)."""
    await tx.execute(
        """INSERT INTO contract (contract_id, gsrn, customer_id, account_id, product_id,
               product_version, start_date, end_date, billing_frequency, payment_model)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (contract_id) DO UPDATE SET account_id = EXCLUDED.account_id,
               product_id = EXCLUDED.product_id, product_version = EXCLUDED.product_version,
               start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
               billing_frequency = EXCLUDED.billing_frequency,
               payment_model = EXCLUDED.payment_model, updated_at = now()""",
        event.contract_id,
        event.gsrn,
        event.customer_id,
        event.payer_id or event.customer_id,
        event.product_id,
        event.product_version,
        event.start_date,
        event.end_date,
        event.billing_frequency,
        event.payment_model,
    )


async def end_contracts(tx: asyncpg.Connection, gsrn: str, customer_id: str, end: date) -> None:
    """Our supply of *gsrn* for *customer_id* ended at *end*: no contract runs past it."""
    await tx.execute(
        """UPDATE contract SET end_date = $3, updated_at = now()
           WHERE gsrn = $1 AND customer_id = $2 AND start_date <= $3
             AND (end_date IS NULL OR end_date > $3)""",
        gsrn,
        customer_id,
        end,
    )


async def lock(tx: asyncpg.Connection, account_id: str) -> Account | None:
    """The account, locked for this transaction: one issuer per account at a time."""
    row = await tx.fetchrow(
        """SELECT account_id, account_number, contact_type, cpr_cvr_masked, party_sealed
           FROM billing_account WHERE account_id = $1 FOR UPDATE""",
        account_id,
    )
    return None if row is None else Account(**dict(row))


async def get(conn: asyncpg.Connection, account_id: str) -> Account | None:
    row = await conn.fetchrow(
        """SELECT account_id, account_number, contact_type, cpr_cvr_masked, party_sealed
           FROM billing_account WHERE account_id = $1""",
        account_id,
    )
    return None if row is None else Account(**dict(row))


async def has_contract_from(conn: asyncpg.Connection, account_id: str, day: date) -> bool:
    """True when one of the account's contracts runs on or after *day*."""
    value: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM contract WHERE account_id = $1
                          AND (end_date IS NULL OR end_date > $2))""",
        account_id,
        day,
    )
    return value


async def lock_many(tx: asyncpg.Connection, account_ids: Sequence[str]) -> dict[str, Account]:
    """The accounts, locked for this transaction in a fixed order (no deadlock with another
    locker of several)."""
    rows = await tx.fetch(
        """SELECT account_id, account_number, contact_type, cpr_cvr_masked, party_sealed
           FROM billing_account WHERE account_id = ANY($1::text[])
           ORDER BY account_id FOR UPDATE""",
        sorted(set(account_ids)),
    )
    return {r["account_id"]: Account(**dict(r)) for r in rows}


async def with_contract_from(
    conn: asyncpg.Connection, account_ids: Sequence[str], day: date
) -> set[str]:
    """Those of *account_ids* with a contract running on or after *day*."""
    rows = await conn.fetch(
        """SELECT DISTINCT account_id FROM contract WHERE account_id = ANY($1::text[])
             AND (end_date IS NULL OR end_date > $2)""",
        list(account_ids),
        day,
    )
    return {r["account_id"] for r in rows}
