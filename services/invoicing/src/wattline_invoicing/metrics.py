"""Prometheus metrics of invoicing: documents issued and payments booked."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Counter

from wattline_invoicing.adapters.invoices import Issued

DOCUMENTS_ISSUED = Counter(
    "wattline_invoicing_documents_issued_total",
    "Documents issued by the billing job, by kind (invoice, credit_note, prepayment...)",
    ["kind"],
)
PAYMENTS = Counter(
    "wattline_invoicing_payments_total",
    "Payments received and booked, by outcome (matched to an invoice, or unmatched)",
    ["outcome"],
)
for _outcome in ("matched", "unmatched"):  # exported at 0 before the first payment
    PAYMENTS.labels(_outcome)
DOCUMENTS_ISSUED.labels("invoice")


def issued(documents: Sequence[Issued]) -> int:
    """Count *documents* (committed) by kind; returns how many there were."""
    for document in documents:
        DOCUMENTS_ISSUED.labels(document.kind).inc()
    return len(documents)


def booked(matched: int, unmatched: int) -> None:
    """Count payments booked (after their transaction committed)."""
    PAYMENTS.labels("matched").inc(matched)
    PAYMENTS.labels("unmatched").inc(unmatched)
