"""Delivering bills to their payers: every issued document gets a pending delivery on each of
``domain.delivery.CHANNELS`` in the transaction that issues it (``issuing._issue``), so none
is ever left without one; :func:`deliver_due` sends those whose time has come.

Sending, for each due delivery:

1. a short transaction claims a batch (``FOR UPDATE SKIP LOCKED``, so replicas claiming at
   once never take the same row) and moves their ``next_attempt_at`` a lease ahead with a
   claim id: committed, no other replica finds them due before the lease runs out;
2. outside any transaction, the payer's e-mail address is opened from the sealed party
   (none: ``no_address``, recorded and not retried: the bill goes on paper or the portal),
   the kept PDF is taken (or rendered and kept), and the message is sent;
3. the outcome is recorded only under the same claim id: ``sent`` with the message id, or
   the failed attempt counted with a short reason and the next one scheduled
   (``domain.delivery.retry_after``), ``failed`` after the last.

So two replicas never send one bill at the same time. Delivery is **at least once**, not
exactly once: a replica that dies between the mail server's acceptance and step 3 (or that
takes longer than the lease, :data:`LEASE`) leaves the row to be claimed again when the
lease ends, and the payer may get that bill twice. SMTP has no way to ask whether a message
arrived, so the choice is between that and a bill never sent.

Time here is the wall clock, not the business clock the rest of invoicing follows: a retry
waits for a real mail server to come back, and locally the simulator's clock stands still
between its moves (it would hold every retry) or jumps days (firing all of them at once).

Personal data: the address and the name are opened for the message only. Logs and the
stored ``last_error`` carry the invoice id, number and reasons cut free of them
(``adapters.mailer``), never the address or the name.
"""

from __future__ import annotations

import asyncio
import traceback
import uuid
from datetime import datetime, timedelta

from wattline_platform.clock import SystemClock
from wattline_platform.logging import get_logger

from wattline_invoicing.adapters import accounts, bill_render, deliveries, invoices
from wattline_invoicing.adapters.accounts import Account
from wattline_invoicing.adapters.deliveries import Claimed, Delivery
from wattline_invoicing.adapters.invoices import Issued
from wattline_invoicing.adapters.mailer import Channel, DeliveryFailed, OutgoingBill
from wattline_invoicing.domain.delivery import CHANNELS, retry_after
from wattline_invoicing.handlers import Invoicing, bills
from wattline_invoicing.handlers.queries import NotFound

log = get_logger(__name__)

# How long a claim holds: well beyond a batch whose every message hits the mail server's
# timeout (batch / concurrency x a few timeouts, ~10 minutes at the defaults' worst).
LEASE = timedelta(minutes=30)
# Delivery's time (see the module's docstring): the job's rounds and a resend's "now".
WALL_CLOCK = SystemClock()


class SendInFlight(Exception):
    """The delivery is being sent right now: a resend would send it twice at once."""


class NothingToDeliver(Exception):
    """The document cannot go to its payer this way (no such channel for it)."""


async def deliver_due(inv: Invoicing, now: datetime) -> int:
    """Send one batch of the e-mail deliveries due at *now*; how many it settled (sent,
    ``no_address``, failed or retry scheduled). 0 when nothing was due, or when nothing can
    be sent: no mail server configured, or no PII key to open the payers' addresses with
    (the deliveries then wait, pending)."""
    channel = inv.email
    if channel is None or not inv.parties.available:
        return 0
    settings = inv.settings
    async with inv.service.database.transaction() as tx:
        claimed = await deliveries.claim_due(
            tx, "email", now, settings.delivery_batch_size, now + LEASE
        )
    at_once = asyncio.Semaphore(settings.delivery_concurrency)

    async def one(item: Claimed) -> None:
        async with at_once:
            await _deliver(inv, channel, item, now)

    await asyncio.gather(*(one(item) for item in claimed))
    return len(claimed)


async def _deliver(inv: Invoicing, channel: Channel, item: Claimed, now: datetime) -> None:
    attempt = item.attempts + 1
    async with inv.service.database.connection() as conn:
        doc = await invoices.get(conn, item.invoice_id)
        assert doc is not None  # a foreign key
        account = await accounts.get(conn, doc.account_id)
        assert account is not None
    where = {"invoice_id": str(doc.invoice_id), "number": doc.number, "channel": item.channel}
    try:
        bill = await _outgoing(inv, doc, account)
        if bill is None:
            async with inv.service.database.connection() as conn:
                recorded = await deliveries.record_no_address(conn, item)
            log.info("bill_not_delivered_no_address", recorded=recorded, **where)
            return
        message_id = await channel.send(bill)
    except DeliveryFailed as exc:
        await _failed(inv, item, attempt, exc.reason, exc.permanent, now, where)
        return
    except Exception as exc:  # a bug or an outage of ours: counted and retried like the others
        # Where it happened, not the exception's message: that may quote the bill's text.
        trace = "".join(traceback.format_tb(exc.__traceback__, limit=-5))
        log.error(
            "bill_delivery_error", attempt=attempt, error=type(exc).__name__, trace=trace, **where
        )
        await _failed(
            inv, item, attempt, f"internal error: {type(exc).__name__}", False, now, where
        )
        return
    async with inv.service.database.connection() as conn:
        recorded = await deliveries.record_sent(conn, item, now, message_id)
    # Not recorded: a resend was asked for while this one was on its way; it goes out again.
    log.info("bill_delivered", attempt=attempt, message_id=message_id, recorded=recorded, **where)


async def _failed(
    inv: Invoicing,
    item: Claimed,
    attempt: int,
    reason: str,
    permanent: bool,
    now: datetime,
    where: dict[str, str],
) -> None:
    wait = None if permanent else retry_after(attempt)
    retry_at = None if wait is None else now + wait
    async with inv.service.database.connection() as conn:
        recorded = await deliveries.record_failure(conn, item, attempt, reason[:200], retry_at)
    log.warning(
        "bill_delivery_failed",
        attempt=attempt,
        error=reason,
        retry_at=None if retry_at is None else retry_at.isoformat(),
        recorded=recorded,
        **where,
    )


async def _outgoing(inv: Invoicing, doc: Issued, account: Account) -> OutgoingBill | None:
    """The e-mail of *doc* to its payer's current address; None when the payer has no e-mail
    address. Raises :class:`DeliveryFailed` when the payer cannot be opened."""
    payer = inv.parties.open(account.party_sealed)
    if payer is None:  # the key is there (deliver_due checks) but does not open this party
        raise DeliveryFailed("the payer's sealed details cannot be opened with this PII key")
    if payer.email is None:
        return None
    view = await bills.bill_view(inv, doc.invoice_id)
    pdf = await bills.pdf(inv, doc.invoice_id)
    document = bill_render.KINDS.get(doc.kind, doc.kind)
    subject = inv.settings.email_subject.format(
        document=document, number=doc.number, supplier=inv.settings.supplier.name
    )
    return OutgoingBill(
        recipient_address=payer.email,
        recipient_name=payer.name,
        subject=subject,
        body=bill_render.email_text(view),
        pdf=pdf,
        pdf_name=f"{document.lower()}-{doc.number}.pdf",
    )


async def deliveries_of(inv: Invoicing, invoice_id: uuid.UUID) -> tuple[str, list[Delivery]]:
    """The document's number and its deliveries, one per channel (none for a document issued
    before deliveries existed)."""
    async with inv.service.database.connection() as conn:
        number = await invoices.number_of(conn, invoice_id)
        if number is None:
            raise NotFound(str(invoice_id))
        return number, await deliveries.of_invoice(conn, invoice_id)


async def resend(inv: Invoicing, invoice_id: uuid.UUID, channel: str, now: datetime) -> Delivery:
    """Send the document to its payer again on *channel* (its address opened anew, so a
    corrected address or one added since is used): pending from *now* with its attempts
    reset, whatever it was (``sent``, ``failed``, ``no_address``)."""
    if channel not in CHANNELS:
        raise NothingToDeliver(f"bills are not delivered by {channel}")
    async with inv.service.database.transaction() as tx:
        if await invoices.number_of(tx, invoice_id) is None:
            raise NotFound(str(invoice_id))
        delivery = await deliveries.reopen(tx, invoice_id, channel, now)
        if delivery is None:
            raise SendInFlight(f"the {channel} of {invoice_id} is being sent; ask again after it")
    log.info("bill_resend_requested", invoice_id=str(invoice_id), channel=channel)
    return delivery
