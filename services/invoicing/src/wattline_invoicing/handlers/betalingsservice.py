"""Betalingsservice in and out: 0602 payment results and 0603 mandate changes booked, 0601
payment requests written for the open invoices of payers with a mandate.

0602: ``0236`` (collected) books a payment; ``0237`` (rejected by the payer's bank) and
``0238`` (cancelled by the payer) book a failure, the invoice stays open for dunning;
``0239`` reverses the earlier payment it names (customer number, reference, due date). FI-card
payments (section 0215: ``0297`` paid, ``0299`` reversed) carry the +71 payment id. Each
result has an identity of its own (``external_ref``): a delivery read twice books once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from wattline_invoicing.adapters import betalingsservice as bs
from wattline_invoicing.adapters import payments as store
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.handlers.payment_imports import report
from wattline_invoicing.handlers.payments import Failure, Receipt, book_failures, book_receipts
from wattline_invoicing.models import MandatesOut, PaymentImportOut

_FAILURES = {"0237": "rejected", "0238": "cancelled", "0239": "reversed"}


def _key(customer: str, reference: str, due: date) -> str:
    return f"bs:{int(customer)}:{reference}:{due.isoformat()}"


async def import_0602(inv: Invoicing, body: bytes) -> PaymentImportOut:
    """Book a 0602 delivery (BsFormatError when it is not one)."""
    delivery = bs.read_0602(body)
    receipts: list[Receipt] = []
    failures: list[Failure] = []
    # A result's identity is where Nets put it: its delivery (Nets numbers them) and line. The
    # same delivery read twice books once; two collections of one invoice on one due date
    # (two 0601s sent) are two payments.
    for r in delivery.results:
        key = _key(r.customer_number, r.reference, r.due_date)
        ref = f"bs0602:{delivery.delivery_id}:{r.line_number}:{r.transaction_code}"
        if r.transaction_code == "0236" and r.amount_paid > 0:
            receipts.append(
                Receipt(
                    external_ref=ref,
                    source="betalingsservice",
                    received_on=r.paid_date or r.due_date,
                    amount=r.amount_paid,
                    reference=r.reference,
                    customer_number=r.customer_number_int,
                    channel_key=key,
                )
            )
        elif r.transaction_code in _FAILURES:
            failures.append(
                Failure(
                    external_ref=ref,
                    kind=_FAILURES[r.transaction_code],  # type: ignore[arg-type]
                    source="betalingsservice",
                    customer_number=r.customer_number_int,
                    reference=r.reference,
                    due_date=r.due_date,
                    amount=abs(r.amount_requested),
                    channel_key=key if r.transaction_code == "0239" else None,
                )
            )
    for f in delivery.fi_card_payments:
        payment_id = f.payment_id or ""
        key = f"fi:{f.archive_reference}"
        ref = f"bs0602:{delivery.delivery_id}:{f.line_number}:{f.transaction_code}"
        if f.transaction_code == "0297" and f.amount_paid > 0:
            receipts.append(
                Receipt(
                    external_ref=ref,
                    source="fi_card",
                    received_on=f.paid_date or f.payment_date,
                    amount=f.amount_paid,
                    reference=" ".join(x for x in (payment_id, f.reference) if x),
                    channel_key=key,
                )
            )
        elif f.transaction_code == "0299":
            failures.append(
                Failure(
                    external_ref=ref,
                    kind="reversed",
                    source="fi_card",
                    customer_number=None,
                    reference=payment_id,
                    due_date=f.payment_date,
                    amount=abs(f.amount),
                    channel_key=key,
                )
            )
    booked = await book_receipts(inv, receipts)
    booked += await book_failures(inv, failures)
    return report(booked)


async def import_0603(inv: Invoicing, body: bytes) -> MandatesOut:
    """Record the mandate changes of a 0603 delivery (the newest change of a payer wins)."""
    changes = bs.read_0603(body)
    active = cancelled = 0
    async with inv.service.database.transaction() as tx:
        for change in changes:
            if change.is_fi_card_agreement:
                continue
            status = "cancelled" if change.is_cancellation else "active"
            await store.upsert_mandate(
                tx,
                change.customer_number_int,
                change.mandate_number,
                change.debtor_group,
                status,
                change.effective_date,
            )
            active += status == "active"
            cancelled += status == "cancelled"
    return MandatesOut(changes=len(changes), active=active, cancelled=cancelled)


async def write_0601(inv: Invoicing, due_until: date, created: date) -> bytes:
    """A 0601 delivery collecting every open invoice due on or before *due_until* of payers
    with an active mandate (the invoice number as the reference, so the 0602 result names
    it). The delivery number is drawn from a gap-free counter."""
    settings = inv.settings
    async with inv.service.database.transaction() as tx:
        rows = await store.collectable(tx, due_until)
        delivery_id = await store.next_delivery_number(tx, created.year)
    requests = [
        bs.PaymentRequest(
            customer_number=r.account_number,
            mandate_number=r.mandate_number,
            due_date=max(r.due_date, created),
            amount=r.outstanding,
            reference=r.number,
            advice=(f"Elregning {r.number}", f"Forfald {r.due_date:%d.%m.%Y}"),
        )
        for r in rows
        if r.outstanding > Decimal("0.00")
    ]
    return bs.write_0601(
        requests,
        data_supplier=settings.bs_data_supplier,
        creditor_pbs=settings.bs_creditor_pbs,
        debtor_group=settings.bs_debtor_group,
        delivery_id=delivery_id,
        created=created,
        bank_registration=settings.bs_bank_registration,
        bank_account=settings.bs_bank_account,
        main_text=settings.supplier.name[:60],
    )
