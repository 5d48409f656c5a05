"""Payments in: receipts matched and booked, failed collections, reversals, back office's
allocation of what is on the suspense list.

Receipts are booked in chunks, each one transaction under the ``invoicing-payments`` lock
(imports are rare and must not race for the same invoices): what a chunk books (payments,
allocations, ledger entries, invoice statuses, events) commits together or not at all, and
a receipt booked before (its ``external_ref``) is skipped, so a file imported again or a
crash halfway books each payment exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal

import asyncpg
from wattline_contracts.invoicing import AllocationV1, PaymentFailedV1, PaymentReceivedV1
from wattline_platform import leases
from wattline_platform.leases import lock_key

from wattline_invoicing import metrics
from wattline_invoicing.adapters import payments as store
from wattline_invoicing.adapters.payments import NewPayment
from wattline_invoicing.domain import payments as rules
from wattline_invoicing.domain.payments import OpenInvoice
from wattline_invoicing.handlers import Invoicing

Source = Literal["betalingsservice", "fi_card", "bank", "manual"]
CHUNK = 2_000
_LOCK = lock_key("invoicing-payments")


@dataclass(frozen=True)
class Receipt:
    """Money received, as its channel reported it."""

    external_ref: str  # the channel's identity of this payment (idempotency)
    source: Source
    received_on: date
    amount: Decimal  # > 0
    reference: str  # free text, the FI id, our invoice number
    customer_number: int | None = None  # the payer's account number, when the channel names it
    channel_key: str | None = None  # how a later reversal names it


@dataclass(frozen=True)
class Failure:
    """A Betalingsservice result that brought no money, or took it back."""

    external_ref: str
    kind: Literal["rejected", "cancelled", "reversed"]
    source: Source
    customer_number: int | None
    reference: str
    due_date: date
    amount: Decimal
    channel_key: str | None = None  # reversed: the payment's key


@dataclass(frozen=True)
class Booked:
    """What an import booked."""

    received: int = 0
    matched: int = 0
    unmatched: int = 0
    already_booked: int = 0
    failed: int = 0
    reversed: int = 0
    amount: Decimal = Decimal("0.00")

    def __add__(self, other: Booked) -> Booked:
        return Booked(
            self.received + other.received,
            self.matched + other.matched,
            self.unmatched + other.unmatched,
            self.already_booked + other.already_booked,
            self.failed + other.failed,
            self.reversed + other.reversed,
            self.amount + other.amount,
        )


async def book_receipts(inv: Invoicing, receipts: Sequence[Receipt]) -> Booked:
    """Match and book *receipts* (see the module docstring)."""
    total = Booked()
    for start in range(0, len(receipts), CHUNK):
        async with inv.service.database.transaction() as tx:
            await leases.xact_lock(tx, _LOCK)
            booked = await _book_chunk(inv, tx, receipts[start : start + CHUNK])
        metrics.booked(booked.matched, booked.unmatched)
        total += booked
    return total


async def _book_chunk(inv: Invoicing, tx: asyncpg.Connection, chunk: Sequence[Receipt]) -> Booked:
    known = await store.known_refs(tx, [r.external_ref for r in chunk])
    # Each new external_ref once (a file may repeat a line; its copy is "already booked").
    fresh: dict[str, Receipt] = {}
    for receipt in chunk:
        if receipt.external_ref not in known:
            fresh.setdefault(receipt.external_ref, receipt)
    todo = list(fresh.values())
    if not todo:
        return Booked(already_booked=len(chunk))
    named = await store.invoices_named(
        tx,
        [pid for r in todo for pid in rules.payment_ids_in(r.reference)],
        [n for r in todo for n in rules.invoice_numbers_in(r.reference)],
    )
    by_number = await store.accounts_by_number(
        tx, sorted({r.customer_number for r in todo if r.customer_number is not None})
    )
    numbers = await store.lock_accounts(
        tx, [i.account_id for i in named] + list(by_number.values())
    )
    open_now = await store.open_invoices_of(tx, sorted(numbers))
    by_payment_id = {i.fi_payment_id: i for i in named if i.fi_payment_id}
    by_invoice_number = {i.number: i for i in named}
    open_by_account: dict[str, list[OpenInvoice]] = {}
    for item in open_now:
        open_by_account.setdefault(item.account_id, []).append(item)
    outstanding = {i.invoice_id: i for i in open_now}

    new_payments: list[NewPayment] = []
    allocations: list[tuple[uuid.UUID, str, Decimal]] = []
    entries: list[tuple[str, str, str, Decimal, date]] = []
    events = []
    matched = 0
    for receipt in todo:
        hint = None if receipt.customer_number is None else by_number.get(receipt.customer_number)
        ids = rules.payment_ids_in(receipt.reference)
        names = rules.invoice_numbers_in(receipt.reference)
        candidates = {by_payment_id[i].account_id for i in ids if i in by_payment_id}
        candidates |= {by_invoice_number[n].account_id for n in names if n in by_invoice_number}
        if hint is not None:
            candidates.add(hint)
        # What is outstanding now: earlier receipts of this chunk may have paid some.
        current = {
            account: [
                outstanding[i.invoice_id]
                for i in open_by_account.get(account, [])
                if outstanding[i.invoice_id].outstanding > 0
            ]
            for account in candidates
        }
        result = rules.match(
            receipt.amount,
            receipt.reference,
            hint,
            {i: _current(outstanding, by_payment_id[i]) for i in ids if i in by_payment_id},
            {
                n: _current(outstanding, by_invoice_number[n])
                for n in names
                if n in by_invoice_number
            },
            current,
        )
        payment_id = uuid.uuid4()
        new_payments.append(
            NewPayment(
                payment_id=payment_id,
                source=receipt.source,
                external_ref=receipt.external_ref,
                channel_key=receipt.channel_key,
                received_on=receipt.received_on,
                amount=receipt.amount,
                reference=receipt.reference,
                account_id=result.account_id,
                rule=result.rule,
            )
        )
        for invoice_id, amount in result.allocations:
            allocations.append((payment_id, invoice_id, amount))
            paid = outstanding[invoice_id]  # allocate() only pays open invoices: all in the map
            outstanding[invoice_id] = OpenInvoice(
                paid.invoice_id, paid.account_id, paid.number, paid.fi_payment_id,
                paid.due_date, paid.outstanding - amount,
            )  # fmt: skip
        if result.account_id is not None:
            matched += 1
            entries.append(
                (
                    result.account_id,
                    "payment",
                    f"payment:{payment_id}",
                    -receipt.amount,
                    receipt.received_on,
                )
            )
        events.append(
            (
                PaymentReceivedV1(
                    payment_id=str(payment_id),
                    source=receipt.source,
                    received_on=receipt.received_on,
                    amount=receipt.amount,
                    reference=_matchable(receipt.reference),
                    account_id=result.account_id,
                    account_number=None
                    if result.account_id is None
                    else numbers.get(result.account_id),
                    rule=result.rule,
                    allocations=[
                        AllocationV1(invoice_id=i, number=outstanding[i].number, amount=a)
                        for i, a in result.allocations
                    ],
                    unallocated=result.unallocated,
                ),
                result.account_id or f"suspense:{payment_id}",
            )
        )
    await store.insert_payments(tx, new_payments)
    await store.insert_allocations(tx, allocations)
    await store.book_entries(tx, entries)
    await store.refresh_status(tx, sorted({a[1] for a in allocations}))
    await inv.service.emit_many(tx, events)
    return Booked(
        received=len(todo),
        matched=matched,
        unmatched=len(todo) - matched,
        already_booked=len(chunk) - len(todo),
        amount=sum((r.amount for r in todo), Decimal("0.00")),
    )


def _matchable(reference: str) -> str:
    """What an event may repeat of a payer's free text: the payment ids and invoice numbers
    in it. The rest (payers type their name, sometimes a CPR number) stays in our records."""
    return " ".join([*rules.payment_ids_in(reference), *rules.invoice_numbers_in(reference)])


def _current(open_now: dict[str, OpenInvoice], named: OpenInvoice) -> OpenInvoice:
    """A named invoice as matching may pay it: as open now, or (paid, credited) with nothing
    outstanding, so it names its payer and the money goes to the payer's open invoices."""
    return open_now.get(named.invoice_id) or replace(named, outstanding=Decimal("0.00"))


async def book_failures(inv: Invoicing, failures: Sequence[Failure]) -> Booked:
    """Rejected and cancelled collections (the invoice stays open) and reversals (the
    payment's allocations are taken back and the ledger owes it again), each once."""
    booked = Booked()
    async with inv.service.database.transaction() as tx:
        await leases.xact_lock(tx, _LOCK)
        known = await store.known_refs(tx, [f.external_ref for f in failures])
        # Every payer a reversal may touch, locked first and in order (as the cycle close
        # locks its accounts): locking them one by one in file order could deadlock it.
        keys = [f.channel_key for f in failures if f.kind == "reversed" and f.channel_key]
        await store.lock_accounts(tx, await store.accounts_of_channel_keys(tx, keys))
        for failure in failures:
            if failure.external_ref in known:
                booked += Booked(already_booked=1)
                continue
            known.add(failure.external_ref)
            booked += await _book_failure(inv, tx, failure)
    return booked


async def _book_failure(inv: Invoicing, tx: asyncpg.Connection, failure: Failure) -> Booked:
    accounts = await store.accounts_by_number(
        tx, [] if failure.customer_number is None else [failure.customer_number]
    )
    account_id = None if failure.customer_number is None else accounts.get(failure.customer_number)
    named = await store.invoices_named(
        tx, rules.payment_ids_in(failure.reference), rules.invoice_numbers_in(failure.reference)
    )
    invoice = named[0] if named else None
    payment_id: uuid.UUID | None = None
    if failure.kind == "reversed" and failure.channel_key is not None:
        original = await store.by_channel_key(tx, failure.channel_key)
        if original is not None and original.account_id is not None:
            await store.lock_accounts(tx, [original.account_id])
            paid = await store.reverse(tx, original.payment_id)
            await store.refresh_status(tx, paid)
            reversal = (
                original.account_id,
                "reversal",
                f"reversal:{original.payment_id}",
                original.amount,
                failure.due_date,
            )
            await store.book_entries(tx, [reversal])
            payment_id, account_id = original.payment_id, original.account_id
    await store.insert_failure(
        tx,
        external_ref=failure.external_ref,
        source=failure.source,
        kind=failure.kind,
        account_id=account_id,
        invoice_id=None if invoice is None else invoice.invoice_id,
        reference=failure.reference,
        due_date=failure.due_date,
        amount=failure.amount,
        payment_id=payment_id,
    )
    await inv.service.emit(
        tx,
        PaymentFailedV1(
            kind=failure.kind,
            source=failure.source,
            account_id=account_id,
            invoice_id=None if invoice is None else invoice.invoice_id,
            number=None if invoice is None else invoice.number,
            payment_id=None if payment_id is None else str(payment_id),
            amount=failure.amount,
            due_date=failure.due_date,
        ),
        key=account_id or "unknown-payer",
    )
    return Booked(failed=1) if failure.kind != "reversed" else Booked(reversed=1)


class PaymentNotUnmatched(Exception):
    """Only a payment on the suspense list can be allocated by hand."""


class UnknownPayment(Exception):
    """No such payment, account or invoice."""


async def allocate(
    inv: Invoicing, payment_id: uuid.UUID, account_id: str, invoice_id: uuid.UUID | None
) -> StoredAllocation:
    """Back office names the payer (and the invoice) of a payment on the suspense list; it is
    then allocated as a matched receipt would be."""
    async with inv.service.database.transaction() as tx:
        await leases.xact_lock(tx, _LOCK)
        payment = await store.get(tx, payment_id, lock=True)
        if payment is None:
            raise UnknownPayment(str(payment_id))
        if payment.status != "unmatched":
            raise PaymentNotUnmatched(f"payment {payment_id} is {payment.status}")
        numbers = await store.lock_accounts(tx, [account_id])
        if account_id not in numbers:
            raise UnknownPayment(account_id)
        open_now = await store.open_invoices_of(tx, [account_id])
        first = None
        if invoice_id is not None:
            first = next((i for i in open_now if i.invoice_id == str(invoice_id)), None)
            if first is None:
                raise UnknownPayment(f"no open invoice {invoice_id} of {account_id}")
        shares, left = rules.allocate(payment.amount, first, open_now)
        await store.assign(tx, payment_id, account_id, "back_office")
        await store.insert_allocations(tx, [(payment_id, i, a) for i, a in shares])
        await store.book_entries(
            tx,
            [
                (
                    account_id,
                    "payment",
                    f"payment:{payment_id}",
                    -payment.amount,
                    payment.received_on,
                )
            ],
        )
        await store.refresh_status(tx, [i for i, _ in shares])
        named = {i.invoice_id: i.number for i in open_now}
        await inv.service.emit(
            tx,
            PaymentReceivedV1(
                payment_id=str(payment_id),
                source=payment.source,
                received_on=payment.received_on,
                amount=payment.amount,
                reference=_matchable(payment.reference),
                account_id=account_id,
                account_number=numbers[account_id],
                rule="back_office",
                allocations=[
                    AllocationV1(invoice_id=i, number=named[i], amount=a) for i, a in shares
                ],
                unallocated=left,
            ),
            key=account_id,
        )
    return StoredAllocation(
        payment_id, account_id, tuple((i, named[i], a) for i, a in shares), left
    )


@dataclass(frozen=True)
class StoredAllocation:
    payment_id: uuid.UUID
    account_id: str
    allocations: tuple[tuple[str, str, Decimal], ...]
    unallocated: Decimal
