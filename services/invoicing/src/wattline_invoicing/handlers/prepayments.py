"""Back office sets an aconto payer's prepayment for a cycle ahead of billing (a payer who
asks to pay more or less a quarter); the invoice that bills it takes the amount as set."""

from __future__ import annotations

from decimal import Decimal

from wattline_invoicing.adapters import accounts, invoices
from wattline_invoicing.domain.cycles import parse
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.handlers.queries import NotFound
from wattline_invoicing.models import PrepaymentOut


class PrepaymentBilled(Exception):
    """The cycle's prepayment is on an invoice already: it can no longer change."""


async def set_prepayment(
    inv: Invoicing, account_id: str, cycle_name: str, amount: Decimal
) -> PrepaymentOut:
    cycle = parse(cycle_name)
    async with inv.service.database.transaction() as tx:
        if await accounts.lock(tx, account_id) is None:
            raise NotFound(account_id)
        if not await invoices.set_prepayment(tx, account_id, cycle.name, amount):
            raise PrepaymentBilled(f"the prepayment of {cycle.name} is billed already")
    return PrepaymentOut(account_id=account_id, cycle=cycle.name, amount=amount)
