"""Marking a settlement or correction invoiced: what invoicing (or ERP) billed leaves the
export of what is not yet invoiced. An item is on one invoice; marking it again with the same
invoice is a repeat (a retry, a redelivered event) and changes nothing."""

from __future__ import annotations


class NoSuchItem(LookupError):
    """No settlement or correction has this id."""


class AlreadyInvoiced(Exception):
    """The item is on another invoice already."""

    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"already on invoice {invoice_id}")
        self.invoice_id = invoice_id


def check_mark(current: str | None, invoice_id: str) -> None:
    """Whether an item on *current* (``None``: on none) may be marked as on *invoice_id*:
    raises :class:`AlreadyInvoiced` when it is on another invoice."""
    if current is not None and current != invoice_id:
        raise AlreadyInvoiced(current)
