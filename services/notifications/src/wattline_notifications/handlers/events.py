"""Events in, deliveries out: each event names a party, a kind and its facts; the party's
preference for the kind picks the channels. Runs in the consumer's transaction with the inbox
record, so a redelivered event adds nothing (and ``delivery`` is unique per event and channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import asyncpg
from wattline_contracts import Envelope
from wattline_contracts.invoicing import InvoiceIssuedV1, PaymentOverdueV1
from wattline_contracts.portfolio import (
    CustomerActivatedV1,
    CustomerOffboardedV1,
    ProcessStatusChangedV1,
)

from wattline_notifications.adapters import store
from wattline_notifications.domain.messages import (
    DEFAULT_PREFERENCE,
    Kind,
    channels_for,
    dansk_dato,
    kroner,
)

# The processes a signup runs at DataHub (a switch, a move-in): DataHub's acceptance is the
# signup's confirmation.
SIGNUP_PROCESSES = ("BRS-001", "BRS-009")


async def notify(
    tx: asyncpg.Connection, envelope: Envelope, party_id: str, kind: Kind, facts: Mapping[str, str]
) -> None:
    """Deliveries of *kind* to *party_id* through the channels the party chose for it."""
    chosen = (await store.preferences(tx, party_id)).get(kind, DEFAULT_PREFERENCE)
    for channel in channels_for(chosen):
        await store.add_delivery(
            tx,
            event_id=envelope.event_id,
            party_id=party_id,
            kind=kind,
            channel=channel,
            facts=facts,
        )


async def on_customer_activated(
    tx: asyncpg.Connection, event: CustomerActivatedV1, envelope: Envelope
) -> None:
    """Keep the customer's (and payer's) sealed contact details; tell the customer."""
    await store.upsert_contact(tx, event.customer.party_id, event.customer.sealed)
    if event.payer is not None:
        await store.upsert_contact(tx, event.payer.party_id, event.payer.sealed)
    facts = {"start_date": dansk_dato(event.effective_date), "gsrn": event.gsrn}
    await notify(tx, envelope, event.customer.party_id, "supply_active", facts)


async def on_process_status_changed(
    tx: asyncpg.Connection, event: ProcessStatusChangedV1, envelope: Envelope
) -> None:
    """A signup's process accepted by DataHub: the signup is confirmed. Sent when the event
    names the customer and carries its sealed contact (a signup's customer has none here
    before its supply starts otherwise)."""
    if (
        event.signup_id is None
        or event.kind not in SIGNUP_PROCESSES
        or event.status != "acknowledged"
        or event.customer is None
    ):
        return
    await store.upsert_contact(tx, event.customer.party_id, event.customer.sealed)
    facts = {"start_date": dansk_dato(event.effective_date), "gsrn": event.gsrn}
    await notify(tx, envelope, event.customer.party_id, "signup_confirmed", facts)


async def on_invoice_issued(
    tx: asyncpg.Connection, event: InvoiceIssuedV1, envelope: Envelope
) -> None:
    """The payer's invoice: its number, what is to be paid and when."""
    facts = {
        "number": event.number,
        "amount": kroner(event.net_amount_due),
        "due_date": dansk_dato(event.due_date),
    }
    await notify(tx, envelope, event.account_id, "invoice_issued", facts)


async def on_payment_overdue(
    tx: asyncpg.Connection, event: PaymentOverdueV1, envelope: Envelope
) -> None:
    facts = {
        "number": event.number,
        "outstanding": kroner(event.outstanding),
        "due_date": dansk_dato(event.due_date),
    }
    await notify(tx, envelope, event.account_id, "payment_overdue", facts)


async def on_customer_offboarded(
    tx: asyncpg.Connection, event: CustomerOffboardedV1, envelope: Envelope
) -> None:
    """Our supply ends: the last day supplied is the day before the (exclusive) end date."""
    facts = {"gsrn": event.gsrn, "last_day": dansk_dato(event.end_date - timedelta(days=1))}
    await notify(tx, envelope, event.customer_id, "supply_ending", facts)
