"""Refunds: a payer's credit balance (an overpayment, a final settlement with money back) paid
out. The export lists what is owed back; booking a refund once it is paid brings the account
back towards zero."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from wattline_invoicing.adapters import accounts, invoices
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.handlers.queries import NotFound
from wattline_invoicing.models import CreditBalanceOut, RefundOut


class RefundTooLarge(ValueError):
    """A refund larger than the payer's credit balance."""


async def credit_balances(inv: Invoicing) -> list[CreditBalanceOut]:
    """Accounts we owe money, largest first."""
    async with inv.service.database.connection() as conn:
        rows = await invoices.credit_balances(conn)
    return [CreditBalanceOut(account_id=a, account_number=n, amount=-b) for a, n, b in rows]


async def book_refund(
    inv: Invoicing, account_id: str, amount: Decimal, reference: str, paid_on: date
) -> RefundOut:
    """Book a refund paid out (*reference*: the bank's payment id, idempotent)."""
    async with inv.service.database.transaction() as tx:
        if await accounts.lock(tx, account_id) is None:
            raise NotFound(account_id)
        balance = sum((e.amount for e in await invoices.ledger(tx, account_id)), Decimal("0.00"))
        booked = await invoices.book(
            tx,
            account_id=account_id,
            kind="refund",
            reference=f"refund:{reference}",
            amount=amount,
            booked_on=paid_on,
        )
        if booked and balance + amount > 0:
            raise RefundTooLarge(f"the credit balance is {-balance}")
    return RefundOut(account_id=account_id, amount=amount, reference=reference, booked=booked)
