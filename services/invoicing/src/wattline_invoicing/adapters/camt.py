"""Bank statements as ISO 20022 XML: camt.053 (the day's statement), camt.052 (an intraday
report) and camt.054 (debit/credit notifications), read with ``pycamt``.

Every entry (``Ntry``) with its transaction details (``TxDtls``) becomes one money movement:
credits (``CRDT``) are money in, debits and reversals are skipped by the caller as the CSV's
money out is. The entry's identity is the bank's reference (``AcctSvcrRef``) with the
transaction's end-to-end id or position, so the same statement imported twice books once. The
reference a payer gave is the structured creditor reference (``CdtrRefInf/Ref``: where an FI
payment id travels) or the unstructured remittance text.

pycamt reads statements and reports; a camt.054 has the same entries under ``Ntfctn``, which
is read as a statement (the element renamed, nothing else).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from pycamt.parser import Camt053ParseError, Camt053Parser

from wattline_invoicing.adapters.bank_csv import Entry, StatementRefused

_NOTIFICATION = re.compile(rb"<(/?)((?:\w+:)?)Ntfctn([\s>])")
_MAX_BYTES = 50_000_000


def read(body: bytes) -> list[Entry]:
    """The entries of a camt.052/053/054 document; StatementRefused when it is not one."""
    if len(body) > _MAX_BYTES:
        raise StatementRefused(["the statement is too large"])
    xml = _NOTIFICATION.sub(rb"<\1\2Stmt\3", body)
    try:
        transactions = Camt053Parser(xml).get_transactions()
    except (Camt053ParseError, ValueError, SyntaxError, AttributeError) as exc:
        raise StatementRefused(
            [f"not a camt.052/053/054 statement ({type(exc).__name__})"]
        ) from None
    entries: list[Entry] = []
    reasons: list[str] = []
    seen: dict[str, int] = {}
    for n, tx in enumerate(transactions, start=1):
        bank_ref = tx.get("TransactionID") or ""
        position = seen[bank_ref] = seen.get(bank_ref, 0) + 1
        entry_id = f"{bank_ref}:{tx.get('EndToEndId') or position}" if bank_ref else ""
        try:
            amount = Decimal(str(tx.get("Amount")))
            if not amount.is_finite() or abs(amount) >= Decimal(10) ** 10:
                raise InvalidOperation
            booked = date.fromisoformat(str(tx.get("BookingDate") or "")[:10])
        except (InvalidOperation, ValueError):
            reasons.append(f"entry {n}: amount or booking date not valid")
            continue
        if not entry_id:
            reasons.append(f"entry {n}: no bank reference (AcctSvcrRef)")
            continue
        money_in = (
            tx.get("CreditDebitIndicator") == "CRDT" and tx.get("ReversalIndicator") != "true"
        )
        reference = str(
            tx.get("RemittanceInformation") or tx.get("RemittanceInformationFull") or ""
        )
        entries.append(
            Entry(
                line=n,
                entry_id=entry_id[:100],
                booking_date=booked,
                amount=amount.quantize(Decimal("0.01")) if money_in else -abs(amount),
                reference=reference[:500],
            )
        )
    if reasons:
        raise StatementRefused(reasons)
    if not entries:
        raise StatementRefused(["no entries"])
    return entries
