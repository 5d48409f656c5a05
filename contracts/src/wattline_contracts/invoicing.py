"""Events published by the invoicing service: issued invoices and credit notes (the ERP feed).

Amounts are DKK with 2 decimals (strings on the wire). ``subtotal``, ``vat`` and ``total`` are
the sums of the settlements and corrections the document bills (``billed``), so they reconcile
with settlement to the øre. Each line's ``vat`` is its share of its settlement's VAT; the line
VATs sum to ``vat``. ``pass_through`` keeps what the supplier collects for others (the grid
company: ``grid``; Energinet: ``energinet``; the state's electricity tax: ``elafgift``) apart
from its own revenue (``supplier``), excl. VAT. Keyed by the billing account, so one payer's
documents stay in order.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from wattline_contracts.envelope import Event

Gsrn = Field(pattern=r"^57[0-9]{16}$")


class InvoiceLineV1(BaseModel):
    """One price element of one metering point's settlement (or correction), as settled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gsrn: str = Gsrn
    source_id: str = Field(description="settlement_id or correction_id")
    source_kind: Literal["settlement", "correction"]
    period_start: date
    period_end: date = Field(description="exclusive")
    code: str
    revenue: Literal["supplier", "grid", "energinet", "elafgift"]
    quantity_kwh: Decimal | None
    days: int | None
    unit_price: Decimal | None
    amount: Decimal = Field(description="excl. VAT")
    vat: Decimal


class BilledItemV1(BaseModel):
    """A settlement or correction the document bills: settlement marks it invoiced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_id: str
    source_kind: Literal["settlement", "correction"]


class PassThroughV1(BaseModel):
    """Amounts excl. VAT by whom they belong to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    supplier: Decimal
    grid: Decimal
    energinet: Decimal
    elafgift: Decimal


class _DocumentIssued(Event):
    invoice_id: str
    number: str = Field(description="gap-free per series and year, e.g. 2026-00001")
    account_id: str = Field(description="the billing account (the payer)")
    account_number: int = Field(description="the payer's customer number on bills")
    cycle: str | None = Field(description="YYYY-MM or YYYY-Qn; None for a correcting document")
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    fi_payment_id: str | None = Field(description="FI-kort +71 payment id (15 digits)")
    currency: Literal["DKK"] = "DKK"
    lines: list[InvoiceLineV1]
    subtotal: Decimal
    vat: Decimal
    total: Decimal
    aconto_paid: Decimal = Field(description="prepaid for the cycle (aconto); 0 in arrears")
    difference: Decimal = Field(description="total - aconto_paid")
    next_prepayment: Decimal = Field(description="the next cycle's prepayment billed here")
    net_amount_due: Decimal = Field(description="difference + next_prepayment; < 0: money back")
    pass_through: PassThroughV1
    billed: list[BilledItemV1]
    corrects_invoice_id: str | None = None
    corrects_number: str | None = None


class InvoiceIssuedV1(_DocumentIssued):
    """An invoice was issued (numbered, due, payable)."""

    TYPE: ClassVar[str] = "invoicing.invoice.issued"
    VERSION: ClassVar[int] = 1


class CreditNoteIssuedV1(_DocumentIssued):
    """A credit note was issued against ``corrects_invoice_id`` (amounts negative)."""

    TYPE: ClassVar[str] = "invoicing.credit_note.issued"
    VERSION: ClassVar[int] = 1


class AllocationV1(BaseModel):
    """What part of a payment pays which invoice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_id: str
    number: str
    amount: Decimal


class PaymentReceivedV1(Event):
    """Money came in (or back office matched it to a payer): what it pays, what is left as
    the payer's credit. ``account_id`` None: on the suspense list, not matched yet."""

    TYPE: ClassVar[str] = "invoicing.payment.received"
    VERSION: ClassVar[int] = 1

    payment_id: str
    source: Literal["betalingsservice", "fi_card", "bank", "manual"]
    received_on: date
    amount: Decimal
    reference: str
    account_id: str | None
    account_number: int | None
    rule: str = Field(description="how it was matched: fi_payment_id, invoice_number, ...")
    allocations: list[AllocationV1]
    unallocated: Decimal = Field(description="an overpayment kept as the payer's credit")


class PaymentFailedV1(Event):
    """A payment did not happen or was taken back: a Betalingsservice collection rejected by
    the payer's bank or cancelled by the payer, or a completed one reversed."""

    TYPE: ClassVar[str] = "invoicing.payment.failed"
    VERSION: ClassVar[int] = 1

    kind: Literal["rejected", "cancelled", "reversed"]
    source: Literal["betalingsservice", "fi_card", "bank", "manual"]
    account_id: str | None
    invoice_id: str | None
    number: str | None
    payment_id: str | None = Field(description="the reversed payment")
    amount: Decimal
    due_date: date


class PaymentOverdueV1(Event):
    """An invoice was not paid by its due date (and the grace days after it)."""

    TYPE: ClassVar[str] = "invoicing.payment.overdue"
    VERSION: ClassVar[int] = 1

    invoice_id: str
    number: str
    account_id: str
    due_date: date
    outstanding: Decimal
    overdue_on: date


class ReminderSentV1(Event):
    """A reminder (rykker) of an overdue invoice, with its fee and the interest booked."""

    TYPE: ClassVar[str] = "invoicing.reminder.sent"
    VERSION: ClassVar[int] = 1

    invoice_id: str
    number: str
    account_id: str
    reminder: int = Field(ge=1)
    sent_on: date
    outstanding: Decimal
    fee: Decimal = Field(description="at most 100 kr, only on the first three (renteloven)")
    interest: Decimal = Field(description="late-payment interest booked with this reminder")
