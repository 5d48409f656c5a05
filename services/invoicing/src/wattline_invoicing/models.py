"""The invoicing API's typed requests and responses (what /docs shows field by field)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from wattline_contracts.invoicing import CreditNoteIssuedV1, InvoiceIssuedV1


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class InvoiceSummary(_Out):
    invoice_id: str
    number: str = Field(description="gap-free per series and year: 2026-00001, K2026-00001")
    kind: Literal["invoice", "credit_note"]
    status: Literal["issued", "partly_paid", "paid", "credited"]
    account_id: str
    cycle: str | None = Field(
        description="YYYY-MM or YYYY-Qn billed; None: a correction or a first prepayment"
    )
    period_start: date
    period_end: date = Field(description="exclusive")
    issue_date: date
    due_date: date
    subtotal: Decimal = Field(description="excl. VAT: the sum of the settlements billed")
    vat: Decimal
    total: Decimal
    aconto_paid: Decimal
    difference: Decimal
    next_prepayment: Decimal
    amount_due: Decimal = Field(description="< 0: money back to the payer")
    fi_payment_id: str | None = Field(description="FI-kort +71 payment id")
    corrects_invoice_id: str | None


class InvoiceLineOut(_Out):
    gsrn: str
    source_id: str = Field(description="the settlement or correction this line comes from")
    source_kind: Literal["settlement", "correction"]
    period_start: date
    period_end: date
    code: str
    revenue: Literal["supplier", "grid", "energinet", "elafgift"]
    quantity_kwh: Decimal | None
    days: int | None
    unit_price: Decimal | None
    amount: Decimal
    vat: Decimal


class InvoiceDetail(InvoiceSummary):
    account_number: int
    fi_code_line: str | None = Field(description="+71<payment id+creditor number<")
    corrects_number: str | None
    lines: list[InvoiceLineOut]


class InvoicePage(_Out):
    items: list[InvoiceSummary]
    next: str | None = Field(description="cursor for ?after= (None: the last page)")


class CycleClosed(_Out):
    cycle: str
    issued: list[str] = Field(description="numbers of the documents issued now")


class LedgerEntryOut(_Out):
    entry_id: int
    kind: Literal["invoice", "credit_note", "payment", "reversal", "fee", "interest", "refund"]
    reference: str
    invoice_id: str | None
    amount: Decimal = Field(description="> 0: the payer owes more")
    booked_on: date


class BillingAccountOut(_Out):
    account_id: str
    account_number: int
    contact_type: Literal["private", "business"]
    cpr_cvr_masked: str
    balance: Decimal = Field(description="the sum of the ledger: > 0 the payer owes us")
    ledger: list[LedgerEntryOut]


class ErpDocument(_Out):
    """An issued document exactly as the ``invoicing.invoice.issued`` /
    ``invoicing.credit_note.issued`` event carried it."""

    kind: Literal["invoice", "credit_note"]
    issued_at: datetime
    document: InvoiceIssuedV1 | CreditNoteIssuedV1


class ErpPage(_Out):
    items: list[ErpDocument]
    next: str | None = Field(description="cursor for ?since= (the same when nothing is new)")


class PrepaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(ge=0, le=1_000_000, decimal_places=2, description="DKK incl. VAT")


class PrepaymentOut(_Out):
    account_id: str
    cycle: str
    amount: Decimal


class PaymentImportOut(_Out):
    """What a payment file booked."""

    received: int = Field(description="payments booked now")
    matched: int
    unmatched: int = Field(description="on the suspense list for back office")
    already_booked: int = Field(description="in an earlier import (booked once)")
    failed: int = Field(description="collections rejected or cancelled (no money)")
    reversed: int = Field(description="earlier payments taken back")
    skipped: int = Field(description="entries that are not money in (outgoing, zero)")
    amount: Decimal = Field(description="the sum of the payments booked now")


class AllocationOut(_Out):
    invoice_id: str
    number: str
    amount: Decimal


class PaymentOut(_Out):
    payment_id: str
    source: Literal["betalingsservice", "fi_card", "bank", "manual"]
    received_on: date
    amount: Decimal
    reference: str
    account_id: str | None
    rule: str
    status: Literal["matched", "unmatched", "reversed"]
    allocations: list[AllocationOut]
    unallocated: Decimal


class SuspensePage(_Out):
    items: list[PaymentOut]
    next: str | None


class AllocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00]+$")
    invoice_id: str | None = Field(default=None, description="first pay this invoice")


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=500, pattern=r"^[^\x00]+$", description="what the payer disputes"
    )


class DisputeOut(_Out):
    invoice_id: str
    disputed: bool
    reason: str | None


class ReferenceRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate: Decimal = Field(
        gt=-1, lt=1, decimal_places=6, description="a year's rate: 0.0375 for 3.75 %"
    )


class ReferenceRateOut(_Out):
    """The reference rate in force from a day."""

    valid_from: date
    rate: Decimal = Field(description="a year's rate: 0.0375 for 3.75 %")


class ClaimOut(_Out):
    """A claim handed to debt collection."""

    number: str
    account_number: int
    issue_date: date
    due_date: date
    amount_due: Decimal
    outstanding: Decimal
    fees: Decimal
    interest: Decimal
    reminders: int
    handed_off_on: date


class PostingOut(_Out):
    """One line of the posting journal (double entry: a day's debits equal its credits)."""

    booked_on: date
    document: str = Field(description="invoice number, or payment:/fee:/interest: reference")
    account: str
    debit: Decimal
    credit: Decimal
    text: str


class CreditBalanceOut(_Out):
    account_id: str
    account_number: int
    amount: Decimal = Field(description="what we owe the payer")


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, le=1_000_000, decimal_places=2)
    reference: str = Field(min_length=1, max_length=100, pattern=r"^[\w.:/-]+$")
    paid_on: date


class RefundOut(_Out):
    account_id: str
    amount: Decimal
    reference: str
    booked: bool = Field(description="false: this reference was booked before")


class MandatesOut(_Out):
    """What a 0603 delivery changed."""

    changes: int
    active: int
    cancelled: int


# -- the customer portal (a customer's own documents, in customer terms: no internal ids) ------


class PortalDocument(_Out):
    """An invoice or credit note as its customer sees it."""

    number: str = Field(description="the document's number: 2026-00001, K2026-00001")
    kind: Literal["invoice", "credit_note"]
    status: Literal["issued", "partly_paid", "paid", "credited"]
    period_start: date
    period_end: date = Field(description="exclusive")
    issue_date: date
    due_date: date
    subtotal: Decimal = Field(description="DKK excl. VAT")
    vat: Decimal
    total: Decimal = Field(description="DKK incl. VAT")
    aconto_paid: Decimal = Field(description="prepaid (aconto) and deducted here")
    next_prepayment: Decimal = Field(description="the next period's prepayment billed here")
    amount_due: Decimal = Field(description="to pay; < 0: money back")
    outstanding: Decimal = Field(description="what is still unpaid of it (0 for a credit note)")
    corrects_number: str | None = Field(description="a credit note: the invoice it corrects")


class PortalDocumentPage(_Out):
    items: list[PortalDocument]
    next: str | None = Field(description="cursor for ?after= (None: the last page)")


class PortalLine(_Out):
    gsrn: str = Field(description="the metering point")
    period_start: date
    period_end: date = Field(description="exclusive")
    code: str = Field(description="the price element: spot_energy, grid_tariff, ...")
    text: str = Field(description="as the bill prints it (Danish)")
    correction: bool = Field(description="corrects an earlier period's settlement")
    quantity_kwh: Decimal | None
    days: int | None
    unit_price: Decimal | None = Field(description="DKK per kWh or per day, excl. VAT")
    amount: Decimal = Field(description="DKK excl. VAT")
    vat: Decimal


class PortalDocumentDetail(PortalDocument):
    fi_code_line: str | None = Field(description="to pay by FI-kort: +71<payment id+creditor<")
    lines: list[PortalLine]


class PortalPaidInvoice(_Out):
    number: str
    amount: Decimal


class PortalPayment(_Out):
    received_on: date
    amount: Decimal
    method: Literal["betalingsservice", "fi_card", "bank", "manual"]
    status: Literal["matched", "reversed"] = Field(description="reversed: taken back")
    pays: list[PortalPaidInvoice] = Field(description="the invoices it paid, by number")


class PortalPayments(_Out):
    balance: Decimal = Field(description="> 0: the customer owes; < 0: money to the customer")
    payments: list[PortalPayment] = Field(description="newest first")
