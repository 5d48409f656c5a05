"""The posting journal: each document and money movement as double-entry postings on the
supplier's chart of accounts, so an ERP integrator books without re-deriving anything.

An invoice debits receivables with what the payer owes (``amount_due``) and, for aconto, the
prepayment liability with what it deducts (``aconto_paid``); it credits the supplier's own
revenue and each pass-through owner (grid company, Energinet, elafgift) with their amounts
excl. VAT, output VAT, and the prepayment liability with the next prepayment it bills.
Debits equal credits: ``amount_due + aconto_paid = subtotal + vat + next_prepayment``. A
credit note is the same with the signs turned; a negative amount is posted on the other side.
A payment debits the bank and credits receivables; a reversal the other way; a fee or
interest debits receivables and credits its revenue account (no VAT).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Accounts:
    """Account codes of the supplier's chart (settings)."""

    receivables: str = "1100"
    bank: str = "5820"
    vat: str = "8510"
    prepayments: str = "8400"
    supplier: str = "1010"
    grid: str = "1020"
    energinet: str = "1030"
    elafgift: str = "1040"
    fees: str = "1090"
    interest: str = "1095"


@dataclass(frozen=True)
class Posting:
    booked_on: date
    document: str  # invoice number, or payment:<id>
    account: str
    debit: Decimal
    credit: Decimal
    text: str


def _post(booked_on: date, document: str, account: str, amount: Decimal, text: str) -> Posting:
    """*amount* > 0 on the debit side, < 0 on the credit side."""
    return Posting(booked_on, document, account, max(amount, ZERO), max(-amount, ZERO), text)


def for_document(
    accounts: Accounts,
    *,
    booked_on: date,
    number: str,
    amount_due: Decimal,
    aconto_paid: Decimal,
    next_prepayment: Decimal,
    vat: Decimal,
    revenue: Mapping[str, Decimal],
) -> list[Posting]:
    """The postings of an invoice or credit note; *revenue*: amount excl. VAT per owner."""
    codes = {
        "supplier": accounts.supplier,
        "grid": accounts.grid,
        "energinet": accounts.energinet,
        "elafgift": accounts.elafgift,
    }
    postings = [
        _post(booked_on, number, accounts.receivables, amount_due, "debitor"),
        _post(booked_on, number, accounts.prepayments, aconto_paid, "betalt aconto"),
        *(
            _post(booked_on, number, codes[owner], -amount, owner)
            for owner, amount in sorted(revenue.items())
            if amount
        ),
        _post(booked_on, number, accounts.vat, -vat, "salgsmoms"),
        _post(booked_on, number, accounts.prepayments, -next_prepayment, "forudbetaling"),
    ]
    return [p for p in postings if p.debit or p.credit]


def for_entry(
    accounts: Accounts, *, booked_on: date, kind: str, reference: str, amount: Decimal
) -> list[Posting]:
    """The postings of a ledger entry that is not a document (*amount* as the ledger signs
    it: > 0 the payer owes more)."""
    other = {
        "payment": accounts.bank,
        "reversal": accounts.bank,
        "refund": accounts.bank,
        "fee": accounts.fees,
        "interest": accounts.interest,
    }[kind]
    return [
        p
        for p in (
            _post(booked_on, reference, accounts.receivables, amount, kind),
            _post(booked_on, reference, other, -amount, kind),
        )
        if p.debit or p.credit
    ]


def balanced(postings: list[Posting]) -> bool:
    return sum((p.debit for p in postings), ZERO) == sum((p.credit for p in postings), ZERO)
