"""Customers and payers: a person is kept once per role and CPR/CVR number, sealed."""

from __future__ import annotations

import asyncpg

from wattline_portfolio.adapters import store
from wattline_portfolio.domain.identity import Person
from wattline_portfolio.handlers import Portfolio


async def save_party(
    p: Portfolio, tx: asyncpg.Connection, role: str, person: Person, *, overwrite: bool = False
) -> str:
    """The party id of *person* in *role*, sealed and blind-indexed; its details replace the
    stored ones only when *overwrite* (confirmed data: an activation, an import)."""
    return await store.upsert_party(
        tx,
        role=role,
        contact_type=person.contact_type,
        cpr_cvr_index=p.vault.index(f"{person.contact_type}:{person.cpr_cvr}"),
        cpr_cvr_masked=person.cpr_cvr_masked,
        name_index=p.vault.index(person.name),
        email_index=p.vault.index(person.email) if person.email else None,
        sealed=p.vault.seal_person(person),
        overwrite=overwrite,
    )
