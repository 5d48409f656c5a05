"""Payments: matching money received to the invoices it pays.

A receipt (a Betalingsservice result, a line of a bank statement, a manual booking) is matched
in this order, the first rule that names an account wins:

1. **FI payment id**: the reference holds a 15-digit +71 id with a valid check digit that one
   of our invoices carries (the id names the invoice).
2. **Invoice number**: the reference holds one of our invoice numbers (Betalingsservice
   carries the number we wrote in the 0601 request; payers type it in free text).
3. **Payer and amount**: the receipt names the payer's customer number (Betalingsservice's
   kundenummer, or the account number in the text) and exactly one of its open invoices has
   that amount outstanding (else the payer's open invoices, oldest due first).

What a receipt pays is allocated to the matched invoice first, then to the payer's other
open invoices, oldest due first; what is left is an overpayment, kept as the payer's credit
(the ledger's balance goes below zero). A receipt no rule matches goes to the suspense list
for back office (``POST /api/payments/{id}/allocate``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from wattline_invoicing.domain import fik

ZERO = Decimal("0.00")
_DIGITS15 = re.compile(r"(?<!\d)(\d{15})(?!\d)")
_NUMBER = re.compile(r"(?<![\w-])(K?\d{4}-\d{5,})(?![\w-])")


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: str
    account_id: str
    number: str
    fi_payment_id: str | None
    due_date: date
    outstanding: Decimal  # > 0


@dataclass(frozen=True)
class Match:
    """Whose money it is (None: unmatched), how it was found, and what it pays."""

    account_id: str | None
    rule: str  # "fi_payment_id", "invoice_number", "payer_amount", "payer", "none"
    allocations: tuple[tuple[str, Decimal], ...]  # (invoice id, amount)
    unallocated: Decimal  # an overpayment (matched) or the whole amount (unmatched)


def payment_ids_in(reference: str) -> list[str]:
    """The valid +71 payment ids written in *reference*."""
    return [m for m in _DIGITS15.findall(reference) if fik.is_valid(m)]


def invoice_numbers_in(reference: str) -> list[str]:
    """Invoice numbers (``2025-00001``, ``K2025-00001``) written in *reference*."""
    return _NUMBER.findall(reference.upper())


def allocate(
    amount: Decimal, first: OpenInvoice | None, others: Sequence[OpenInvoice]
) -> tuple[tuple[tuple[str, Decimal], ...], Decimal]:
    """Spread *amount* over *first*, then *others* oldest due first; returns the allocations
    and what is left over."""
    left = amount
    result: list[tuple[str, Decimal]] = []
    ordered = ([first] if first else []) + sorted(
        (o for o in others if first is None or o.invoice_id != first.invoice_id),
        key=lambda o: (o.due_date, o.number),
    )
    for invoice in ordered:
        if left <= 0:
            break
        share = min(left, invoice.outstanding)
        if share > 0:
            result.append((invoice.invoice_id, share))
            left -= share
    return tuple(result), left


def match(
    amount: Decimal,
    reference: str,
    account_hint: str | None,
    by_payment_id: dict[str, OpenInvoice],
    by_number: dict[str, OpenInvoice],
    open_of_account: dict[str, list[OpenInvoice]],
) -> Match:
    """Match a receipt of *amount* (> 0) with free-text *reference*. *account_hint*: the
    account the receipt's channel names (Betalingsservice's customer number), if any.
    The dicts hold our open invoices (payment ids and numbers may also name paid ones: a
    receipt for a paid invoice is still that payer's money, an overpayment)."""
    if amount <= 0:
        raise ValueError("a receipt is a positive amount")
    for rule, keys, index in (
        ("fi_payment_id", payment_ids_in(reference), by_payment_id),
        ("invoice_number", invoice_numbers_in(reference), by_number),
    ):
        for key in keys:
            invoice = index.get(key)
            if invoice is not None:
                others = open_of_account.get(invoice.account_id, [])
                first = invoice if invoice.outstanding > 0 else None
                allocations, left = allocate(amount, first, others)
                return Match(invoice.account_id, rule, allocations, left)
    if account_hint is not None:
        others = open_of_account.get(account_hint, [])
        exact = [o for o in others if o.outstanding == amount]
        if len(exact) == 1:
            return Match(account_hint, "payer_amount", ((exact[0].invoice_id, amount),), ZERO)
        allocations, left = allocate(amount, None, others)
        return Match(account_hint, "payer", allocations, left)
    return Match(None, "none", (), amount)
