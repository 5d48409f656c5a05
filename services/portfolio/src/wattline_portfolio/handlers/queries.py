"""What back office and sales channels read: signups, customers, processes, products.

CPR/CVR numbers are only ever shown masked; other personal data is opened for the API
(behind the gateway's keys) and never logged. The SQL is in ``adapters.read_models``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.adapters import read_models, store
from wattline_portfolio.adapters.vault import Vault
from wattline_portfolio.domain.identity import Person
from wattline_portfolio.domain.products import (
    CHANNELS,
    Channel,
    ChannelVersion,
    Product,
    channel_version_on,
)
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.errors import SignupNotFound
from wattline_portfolio.models import SignupIn


def page_clause(page: int, page_size: int) -> tuple[int, int]:
    return max(1, min(page_size, 500)), (max(1, page) - 1) * max(1, min(page_size, 500))


# -- products -----------------------------------------------------------------------------------


def product_view(
    product: Product, today: date, channel: Channel | None = None
) -> dict[str, Any] | None:
    """A product as a sales channel offers it today (None: no price in force yet). With
    *channel*: that channel's price in force today, or the base price when it has none
    (``price_source`` says which), and the channel's next version if one is announced."""
    current = product.on(today)
    if current is None:
        return None
    upcoming: list[Any] = [v for v in product.versions if v.valid_from > today]
    offered: Any = current
    extra: dict[str, Any] = {}
    if channel is not None:
        own = channel_version_on(product.channel_versions, channel, today)
        announced = [
            v for v in product.channel_versions if v.channel == channel and v.valid_from > today
        ]
        upcoming = announced or upcoming
        offered = own or current
        extra = {
            "channel": channel,
            "price_source": "base" if own is None else "channel",
            "campaign_id": None if own is None else own.campaign_id,
            "valid_to": None if own is None or own.valid_to is None else own.valid_to.isoformat(),
        }
    return {
        "product_id": product.product_id,
        "name": product.name,
        "description": product.description,
        "green_energy": product.green_energy,
        "display_order": product.display_order,
        "active": product.active,
        **_prices(offered),
        "next_version": _prices(min(upcoming, key=lambda v: v.valid_from)) if upcoming else None,
        **extra,
    }


def _prices(v: Any) -> dict[str, Any]:
    return {
        "version": v.version,
        "valid_from": v.valid_from.isoformat(),
        "price_type": v.prices.price_type,
        "margin_dkk_per_kwh": str(v.prices.margin_dkk_per_kwh),
        "fixed_price_dkk_per_kwh": None
        if v.prices.fixed_price_dkk_per_kwh is None
        else str(v.prices.fixed_price_dkk_per_kwh),
        "subscription_dkk_per_month": str(v.prices.subscription_dkk_per_month),
    }


prices_view = _prices


def product_detail(product: Product, today: date) -> dict[str, Any]:
    view = product_view(product, today) or {
        "product_id": product.product_id,
        "name": product.name,
        "description": product.description,
        "green_energy": product.green_energy,
        "display_order": product.display_order,
        "active": product.active,
    }
    return {
        **view,
        "versions": [_prices(v) for v in product.versions],
        "min_margin_dkk_per_kwh": _amount(product.corridor.minimum),
        "max_margin_dkk_per_kwh": _amount(product.corridor.maximum),
    }


async def offers(
    p: Portfolio, *, include_inactive: bool, channel: Channel | None = None
) -> list[dict[str, Any]]:
    """The products to offer today (those with a price in force), at *channel*'s prices."""
    today = await p.today()
    async with p.service.database.connection() as conn:
        products = await product_store.all_products(conn, only_active=not include_inactive)
    views = (product_view(x, today, channel) for x in products)
    return [v for v in views if v is not None]


def _channel_version_view(v: ChannelVersion) -> dict[str, Any]:
    return {
        "channel": v.channel,
        "campaign_id": v.campaign_id,
        **_prices(v),
        "valid_to": None if v.valid_to is None else v.valid_to.isoformat(),
    }


def campaign_view(product_id: str, versions: tuple[ChannelVersion, ...]) -> dict[str, Any]:
    first = versions[0]
    return {
        "product_id": product_id,
        "campaign_id": first.campaign_id,
        "valid_from": first.valid_from.isoformat(),
        "valid_to": None if first.valid_to is None else first.valid_to.isoformat(),
        "versions": [_channel_version_view(v) for v in versions],
    }


def channel_prices_view(product: Product, as_of: date) -> dict[str, Any]:
    """Each channel's price in force on *as_of* (the base price where it has none) and every
    channel version ever published, newest first: old rows stay readable as they were."""
    base = product.on(as_of)
    current = []
    for channel in CHANNELS:
        own = channel_version_on(product.channel_versions, channel, as_of)
        if own is not None:
            current.append({**_channel_version_view(own), "price_source": "channel"})
        elif base is not None:
            current.append(
                {
                    "channel": channel,
                    "campaign_id": None,
                    **_prices(base),
                    "valid_to": None,
                    "price_source": "base",
                }
            )
    return {
        "product_id": product.product_id,
        "as_of": as_of.isoformat(),
        "min_margin_dkk_per_kwh": _amount(product.corridor.minimum),
        "max_margin_dkk_per_kwh": _amount(product.corridor.maximum),
        "current": current,
        "versions": [
            _channel_version_view(v)
            for v in sorted(product.channel_versions, key=lambda v: -v.version)
        ],
    }


def _amount(value: Any) -> str | None:
    return None if value is None else str(value)


async def product(p: Portfolio, product_id: uuid.UUID) -> dict[str, Any] | None:
    """A product with all its price versions (None: no such product)."""
    async with p.service.database.connection() as conn:
        found = await product_store.get(conn, str(product_id))
    if found is None:
        return None
    return product_detail(found, await p.today())


# -- people and signups -------------------------------------------------------------------------


def person_view(
    vault: Vault, party: asyncpg.Record, as_submitted: Person | None = None
) -> dict[str, Any]:
    """The *party* as kept; with *as_submitted*, its id and the details a signup sent instead."""
    person: Person = as_submitted or vault.open_person(party["sealed"])
    address = person.address
    return {
        "id": str(party["party_id"]),
        "name": person.name,
        "cpr_cvr": person.cpr_cvr_masked if as_submitted else party["cpr_cvr_masked"],
        "contact_type": person.contact_type if as_submitted else party["contact_type"],
        "email": person.email,
        "phone": person.phone,
        "billing_address": {
            "street": address.street,
            "house_number": address.house_number,
            "floor": address.floor,
            "door": address.door,
            "postal_code": address.postal_code,
            "city": address.city,
        },
    }


def _submitted(vault: Vault, row: asyncpg.Record) -> SignupIn:
    """The signup *row* as its channel sent it."""
    return SignupIn.model_validate_json(vault.open(row["request_sealed"]))


def _signup_row(vault: Vault, row: asyncpg.Record, seen_by: str | None = None) -> dict[str, Any]:
    # A channel sees the customer as it sent it: the party (one per CPR/CVR) keeps the details
    # of whoever made it first or confirmed it last, maybe another channel's customer.
    name = (
        _submitted(vault, row).customer_name
        if seen_by is not None
        else vault.open_person(row["customer_sealed"]).name
    )
    return {
        "signup_id": row["signup_id"],
        "status": row["status"],
        "gsrn": row["gsrn"],
        "type": row["type"],
        "effective_date": row["effective_date"].isoformat(),
        "customer_name": name,
        "rejection_reason": row["rejection_reason"],
        "end_reason": row["end_reason"],
        "end_date": None if row["end_date"] is None else row["end_date"].isoformat(),
        "created_at": row["created_at"].isoformat(),
    }


_MP_COLUMNS = (
    "gsrn",
    "grid_area",
    "price_area",
    "metering_point_type",
    "settlement_method",
    "resolution",
)


def search_indexes(vault: Vault, term: str) -> list[str]:
    """The blind indexes a search term can match: a name or e-mail as typed, or a CPR/CVR
    number (with or without its dash)."""
    term = term.strip()
    digits = term.replace("-", "").replace(" ", "")
    indexes = [vault.index(term)]
    if digits.isdigit():
        indexes += [vault.index(f"private:{digits}"), vault.index(f"business:{digits}")]
    return indexes


async def signups(
    p: Portfolio,
    *,
    status: str | None,
    search: str | None,
    page: int,
    page_size: int,
    seen_by: str | None = None,
) -> dict[str, Any]:
    """Signups, newest first, by status and/or a search term: a signup id, a GSRN, or an exact
    CPR/CVR number, name or e-mail (matched by blind index). *seen_by*: only that sales
    channel's."""
    limit, offset = page_clause(page, page_size)
    indexes = search_indexes(p.vault, search.strip()) if search else []
    async with p.service.database.connection() as conn:
        total, rows = await read_models.signups(
            conn,
            status=status,
            search=search,
            indexes=indexes,
            seen_by=seen_by,
            limit=limit,
            offset=offset,
        )
    return {
        "items": [_signup_row(p.vault, r, seen_by) for r in rows],
        "total": total,
        "page": max(1, page),
        "page_size": limit,
    }


async def signup_status(p: Portfolio, signup_id: str, seen_by: str | None) -> asyncpg.Record:
    """The signup (*seen_by*: only if that channel made it)."""
    async with p.service.database.connection() as conn:
        row = await store.signup(conn, signup_id, seen_by=seen_by)
    if row is None:
        raise SignupNotFound(signup_id)
    return row


async def signup_detail(p: Portfolio, signup_id: str, seen_by: str | None = None) -> dict[str, Any]:
    """A signup with its customer, payer and process."""
    vault = p.vault
    async with p.service.database.connection() as conn:
        row = await read_models.signup(conn, signup_id, seen_by)
        if row is None:
            raise SignupNotFound(signup_id)
        process = await store.process_by(conn, "process_id", row["process_id"], for_update=False)
        assert process is not None
        customer = await store.party(conn, str(row["customer_id"]))
        payer = await store.party(conn, str(row["payer_id"])) if row["payer_id"] else None
        resubmitted_as = await read_models.resubmitted_as(conn, signup_id)
    assert customer is not None
    # A channel: the people as it sent them, never what the parties keep (see _signup_row).
    sent = _submitted(vault, row) if seen_by is not None else None
    return {
        **_signup_row(vault, row, seen_by),
        "dar_id": str(row["dar_id"]),
        "product_id": str(row["product_id"]),
        "product_version": row["product_version"],
        "customer": person_view(vault, customer, sent.customer() if sent else None),
        "payer": person_view(vault, payer, sent.payer() if sent else None) if payer else None,
        "process": process_view(process),
        "resubmission_of": row["resubmission_of"],
        "resubmitted_as": resubmitted_as,
        "updated_at": row["updated_at"].isoformat(),
    }


# -- processes ----------------------------------------------------------------------------------


def process_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "process_id": str(row["process_id"]),
        "kind": row["kind"],
        "gsrn": row["gsrn"],
        "effective_date": row["effective_date"].isoformat(),
        "status": row["status"],
        "signup_id": row["signup_id"],
        "datahub_reference": row["datahub_reference"],
        "reasons": list(row["reasons"]),
        "sent": row["raised_at"] is not None,
        "created_at": row["created_at"].isoformat(),
    }


def timeline_view(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [
        {
            "at": r["at"].isoformat(),
            "process_id": str(r["process_id"]),
            "kind": r["kind"],
            "status": r["status"],
            "source": r["source"],
            "detail": r["detail"],
        }
        for r in rows
    ]


async def signup_timeline(
    p: Portfolio, signup_id: str, seen_by: str | None = None
) -> list[dict[str, Any]]:
    """The signup's process timeline."""
    async with p.service.database.connection() as conn:
        row = await store.signup(conn, signup_id, seen_by=seen_by)
        if row is None:
            raise SignupNotFound(signup_id)
        return timeline_view(await store.timeline(conn, [row["process_id"]]))


async def process_detail(p: Portfolio, process_id: uuid.UUID) -> dict[str, Any] | None:
    """A process with its timeline (None: no such process)."""
    async with p.service.database.connection() as conn:
        row = await store.process_by(conn, "process_id", process_id, for_update=False)
        if row is None:
            return None
        events = await store.timeline(conn, [process_id])
    return {**process_view(row), "events": timeline_view(events)}


async def processes(
    p: Portfolio, *, gsrn: str | None, status: str | None, page: int, page_size: int
) -> dict[str, Any]:
    limit, offset = page_clause(page, page_size)
    async with p.service.database.connection() as conn:
        rows = await read_models.processes(
            conn, gsrn=gsrn, status=status, limit=limit, offset=offset
        )
    return {"items": [process_view(r) for r in rows], "page": max(1, page), "page_size": limit}


# -- customers ----------------------------------------------------------------------------------


async def customers(
    p: Portfolio, *, search: str | None, page: int, page_size: int
) -> dict[str, Any]:
    vault = p.vault
    limit, offset = page_clause(page, page_size)
    indexes = search_indexes(vault, search) if search else None
    async with p.service.database.connection() as conn:
        total, rows = await read_models.customers(conn, indexes=indexes, limit=limit, offset=offset)
    return {
        "items": [
            {
                "customer_id": str(r["party_id"]),
                "name": vault.open_person(r["sealed"]).name,
                "cpr_cvr": r["cpr_cvr_masked"],
                "contact_type": r["contact_type"],
                "status": "active" if r["supplied"] else "inactive",
                "created_at": r["created_at"].isoformat(),
            }
            for r in rows
        ],
        "total": total,
        "page": max(1, page),
        "page_size": limit,
    }


async def customer_detail(p: Portfolio, customer_id: uuid.UUID) -> dict[str, Any] | None:
    """A customer: contracts, metering points, payer (None: no such customer)."""
    vault = p.vault
    async with p.service.database.connection() as conn:
        party = await read_models.customer(conn, customer_id)
        if party is None:
            return None
        signup_rows = await read_models.signups_of(conn, customer_id)
        periods = await read_models.periods_of(conn, customer_id)
        contracts = await read_models.contracts_of(conn, customer_id)
        gsrns = sorted({r["gsrn"] for r in periods})
        points = await read_models.metering_points(conn, gsrns)
        payer_ids = {c["payer_id"] for c in contracts if c["payer_id"] is not None}
        payers = [await store.party(conn, str(pid)) for pid in sorted(payer_ids, key=str)]
    return {
        **person_view(vault, party),
        "customer_id": str(party["party_id"]),
        "signups": [_signup_row(vault, r) for r in signup_rows],
        "supply_periods": [
            {
                "supply_period_id": str(r["supply_period_id"]),
                "gsrn": r["gsrn"],
                "start_date": r["start_date"].isoformat(),
                "end_date": None if r["end_date"] is None else r["end_date"].isoformat(),
                "status": r["status"],
                "end_reason": r["end_reason"],
            }
            for r in periods
        ],
        "contracts": [
            {
                "contract_id": str(r["contract_id"]),
                "gsrn": r["gsrn"],
                "product_id": str(r["product_id"]),
                "product_name": r["product_name"],
                "product_version": r["product_version"],
                "start_date": r["start_date"].isoformat(),
                "end_date": None if r["end_date"] is None else r["end_date"].isoformat(),
                "billing_frequency": r["billing_frequency"],
                "payment_model": r["payment_model"],
                "payer_id": None if r["payer_id"] is None else str(r["payer_id"]),
            }
            for r in contracts
        ],
        "metering_points": [{k: r[k] for k in _MP_COLUMNS} for r in points],
        "payers": [person_view(vault, p) for p in payers if p is not None],
    }


# -- addresses ----------------------------------------------------------------------------------


async def address_points(p: Portfolio, gsrns: list[str]) -> list[dict[str, Any]]:
    """Each GSRN at an address, with whether we supply it and any open process on it."""
    async with p.service.database.connection() as conn:
        supplied = await read_models.supplied(conn, gsrns)
        open_rows = await read_models.open_processes(conn, gsrns)
    return [
        {
            "gsrn": g,
            "supplied_by_us": g in supplied,
            "open_process": None
            if g not in open_rows
            else {
                "process_id": str(open_rows[g]["process_id"]),
                "kind": open_rows[g]["kind"],
                "status": open_rows[g]["status"],
                "signup_id": open_rows[g]["signup_id"],
            },
        }
        for g in gsrns
    ]
