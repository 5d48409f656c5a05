"""What a printed bill shows: the view a renderer (HTML, PDF) draws, nothing computed there.

Every figure comes from the stored invoice (``invoice.Draft`` as issued); the renderer only
formats (Danish numbers and dates) and lays out. Page 1 is the overview (opgørelse,
forudbetaling, øvrige poster, beløb til betaling, due date, payment method with the FI code
line); page 2 the detail per metering point and what the rules ask a bill to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Supplier:
    """Who sends the bill (settings): name, address, CVR, how to reach customer service."""

    name: str
    address_lines: tuple[str, ...]
    cvr: str
    phone: str
    email: str
    website: str


@dataclass(frozen=True)
class BillLine:
    """A price element of a metering point: e.g. ``Elafgift`` 409,200 kWh x 0,008000 = 3,27."""

    label: str  # Danish, e.g. "Spotpris", "Nettarif", "Abonnement (net)"
    quantity: Decimal | None  # kWh, or None for subscriptions
    days: int | None  # subscriptions: days
    unit_price: Decimal | None  # DKK per kWh (or per day), excl. VAT
    amount: Decimal  # DKK excl. VAT


@dataclass(frozen=True)
class MeteringPointSection:
    """Page 2, one per metering point."""

    gsrn: str
    address_lines: tuple[str, ...]
    period_start: date
    period_end: date  # exclusive; printed as the last day
    kwh: Decimal
    kwh_basis: str  # "målt" (measured) or "skønnet" (estimated)
    kwh_same_period_last_year: Decimal | None
    lines: tuple[BillLine, ...]
    subtotal: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True)
class BillView:
    """Everything a bill prints."""

    supplier: Supplier
    payer_name: str
    payer_address_lines: tuple[str, ...]
    account_number: int
    kind: str  # "invoice" or "credit_note"
    number: str
    corrects_number: str | None
    issue_date: date
    due_date: date
    period_start: date
    period_end: date  # exclusive
    product_names: tuple[str, ...]
    # Page 1
    total: Decimal  # the settled period incl. VAT (opgørelse)
    vat: Decimal
    aconto_paid: Decimal
    difference: Decimal
    next_prepayment: Decimal  # forudbetaling
    next_prepayment_period: str | None  # e.g. "2. kvartal 2025"
    other_items: tuple[tuple[str, Decimal], ...]  # øvrige poster (fees), incl. VAT
    amount_due: Decimal  # < 0: paid back to the payer
    payment_method: str  # "Betalingsservice" or "FI-kort"
    fi_code_line: str | None
    # Page 2
    sections: tuple[MeteringPointSection, ...] = field(default=())
