"""Invoices and credit notes, assembled from what settlement settled: never recomputed.

An invoice bills *billables*: settlements (``settlement.completed``) and corrections of them
(``settlement.correction``, a line-by-line delta). Its lines are their lines as settlement sent
them, per metering point and price element; its subtotal, VAT and total are the **sums of the
billables' subtotals, VATs and totals**, so an invoice always equals what it bills to the øre
and the VAT reconciles with settlement's (a VAT recomputed on the invoice's subtotal could be
an øre off the sum of the settlements' rounded VATs).

VAT per line (what the ERP books per account) is the settlement's VAT spread over its lines:
each line gets ``round(amount x rate)`` and the rounding residue goes to the line with the
largest amount, so a billable's line VATs add up to its VAT exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from wattline_platform.money import round_money

ZERO = Decimal("0.00")

# Who a line's money belongs to. The supplier's own revenue, and what it collects for others
# and passes on: the grid company's tariff, subscription and fees (D02), Energinet's system and
# transmission tariffs and fees, the state's electricity tax (elafgift).
REVENUE: dict[str, str] = {
    "spot_energy": "supplier",
    "supplier_margin": "supplier",
    "fixed_price_energy": "supplier",
    "supplier_subscription": "supplier",
    "solar_export_credit": "supplier",
    "grid_tariff": "grid",
    "grid_subscription": "grid",
    "grid_fee": "grid",
    "system_tariff": "energinet",
    "transmission_tariff": "energinet",
    "energinet_fee": "energinet",
    "electricity_tax": "elafgift",
}

BillableKind = Literal["settlement", "correction"]
DocumentKind = Literal["invoice", "credit_note"]


class InconsistentBillable(ValueError):
    """A settlement whose lines do not add up to its subtotal, or subtotal + VAT ≠ total."""


class NothingToBill(Exception):
    """An invoice needs at least one billable."""


@dataclass(frozen=True)
class SettledLine:
    """One line of a settlement or correction: a price element of a metering point."""

    code: str
    quantity_kwh: Decimal | None
    days: int | None
    unit_price: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class Billable:
    """A settlement or a correction of one, as settlement published it."""

    source_id: str
    kind: BillableKind
    gsrn: str
    billing_period: str
    period_start: date
    period_end: date
    consumption_kwh: Decimal
    lines: tuple[SettledLine, ...]
    subtotal: Decimal
    vat: Decimal
    total: Decimal
    vat_rate: Decimal
    corrects: str | None = None  # a correction: the settlement it corrects

    def check(self) -> None:
        """Raise InconsistentBillable unless the figures add up (settlement guarantees they
        do; a message that breaks it is refused rather than billed)."""
        if sum((line.amount for line in self.lines), ZERO) != self.subtotal:
            raise InconsistentBillable(f"{self.source_id}: lines do not sum to the subtotal")
        if self.subtotal + self.vat != self.total:
            raise InconsistentBillable(f"{self.source_id}: subtotal + VAT is not the total")
        if self.kind == "correction" and self.corrects is None:
            raise InconsistentBillable(f"{self.source_id}: a correction names what it corrects")

    def bills_nothing(self) -> bool:
        """A correction that changes no line's amount: settlement moved money between
        charges inside a line (its per-charge breakdown, which the bill does not show), so
        no document, line or balance changes for it."""
        return self.kind == "correction" and all(line.amount == 0 for line in self.lines)


@dataclass(frozen=True)
class InvoiceLine:
    """A line of an invoice: one billable's price element, with its share of the VAT."""

    gsrn: str
    source_id: str
    source_kind: BillableKind
    period_start: date
    period_end: date
    code: str
    revenue: str
    quantity_kwh: Decimal | None
    days: int | None
    unit_price: Decimal | None
    amount: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    vat: Decimal
    total: Decimal

    @classmethod
    def of(cls, billables: Iterable[Billable]) -> Totals:
        items = list(billables)
        return cls(
            sum((b.subtotal for b in items), ZERO),
            sum((b.vat for b in items), ZERO),
            sum((b.total for b in items), ZERO),
        )


@dataclass(frozen=True)
class Draft:
    """An invoice or credit note before it has a number.

    ``aconto_paid`` is what the payer prepaid for the cycle (aconto; 0 in arrears) and
    ``next_prepayment`` the next cycle's prepayment billed on the same document
    (forudbetaling). ``difference = total - aconto_paid`` (positive: paid too little) and
    ``amount_due = difference + next_prepayment`` (negative: money back), as §5.10.
    """

    kind: DocumentKind
    billables: tuple[Billable, ...]
    lines: tuple[InvoiceLine, ...]
    totals: Totals
    aconto_paid: Decimal = ZERO
    next_prepayment: Decimal = ZERO
    corrects_invoice_id: str | None = None

    @property
    def difference(self) -> Decimal:
        return self.totals.total - self.aconto_paid

    @property
    def amount_due(self) -> Decimal:
        return self.difference + self.next_prepayment


def pass_through(lines: Iterable[InvoiceLine]) -> dict[str, Decimal]:
    """Amounts excl. VAT per owner: ``supplier``, ``grid``, ``energinet``, ``elafgift``."""
    sums = dict.fromkeys(sorted(set(REVENUE.values())), ZERO)
    for line in lines:
        sums[line.revenue] = sums.get(line.revenue, ZERO) + line.amount
    return sums


def allocate_vat(lines: Sequence[SettledLine], vat: Decimal, rate: Decimal) -> list[Decimal]:
    """Each line's share of *vat*: ``round(amount x rate)``, the residue on the largest line,
    so the shares sum to *vat* exactly."""
    shares = [round_money(line.amount * rate) for line in lines]
    if not shares:
        return shares
    residue = vat - sum(shares, ZERO)
    if residue:
        largest = max(range(len(lines)), key=lambda i: (abs(lines[i].amount), -i))
        shares[largest] += residue
    return shares


def lines_of(billable: Billable) -> list[InvoiceLine]:
    """The invoice lines of one billable, in settlement's order."""
    shares = allocate_vat(billable.lines, billable.vat, billable.vat_rate)
    return [
        InvoiceLine(
            gsrn=billable.gsrn,
            source_id=billable.source_id,
            source_kind=billable.kind,
            period_start=billable.period_start,
            period_end=billable.period_end,
            code=line.code,
            revenue=REVENUE.get(line.code, "supplier"),
            quantity_kwh=line.quantity_kwh,
            days=line.days,
            unit_price=line.unit_price,
            amount=line.amount,
            vat=share,
        )
        for line, share in zip(billable.lines, shares, strict=True)
    ]


def _ordered(billables: Iterable[Billable]) -> tuple[Billable, ...]:
    return tuple(sorted(billables, key=lambda b: (b.gsrn, b.period_start, b.kind, b.source_id)))


def invoice(
    billables: Iterable[Billable],
    *,
    aconto_paid: Decimal = ZERO,
    next_prepayment: Decimal = ZERO,
) -> Draft:
    """The invoice of a cycle: every billable of the payer's metering points in it."""
    items = _ordered(billables)
    if not items:
        raise NothingToBill()
    for item in items:
        item.check()
    return Draft(
        kind="invoice",
        billables=items,
        lines=tuple(line for item in items for line in lines_of(item)),
        totals=Totals.of(items),
        aconto_paid=aconto_paid,
        next_prepayment=next_prepayment,
    )


def prepayment(amount: Decimal) -> Draft:
    """A new aconto payer's first document: the prepayment of the running cycle alone."""
    if amount <= 0:
        raise NothingToBill()
    return Draft(
        kind="invoice",
        billables=(),
        lines=(),
        totals=Totals(ZERO, ZERO, ZERO),
        next_prepayment=amount,
    )


def correcting_document(corrections: Iterable[Billable], corrects_invoice_id: str) -> Draft:
    """The document for corrections of settlements already invoiced on *corrects_invoice_id*:
    a credit note when it gives money back (total < 0), else a supplementary invoice; both
    name the invoice they correct. Invoice + its corrections = the corrected settlements."""
    items = _ordered(corrections)
    if not items:
        raise NothingToBill()
    for item in items:
        item.check()
    totals = Totals.of(items)
    return Draft(
        kind="credit_note" if totals.total < 0 else "invoice",
        billables=items,
        lines=tuple(line for item in items for line in lines_of(item)),
        totals=totals,
        corrects_invoice_id=corrects_invoice_id,
    )
