"""Invoice numbers: ``<prefix><year>-<number>``, e.g. ``2026-00001`` or ``K2026-00001``.

The number itself is drawn by the issuing transaction from a counter row it locks, so numbers
are gap-free and unique per series and year (a sequence would leave a gap when a transaction
that took a number rolls back); this module only names series and formats.
"""

from __future__ import annotations

from dataclasses import dataclass

from wattline_invoicing.domain.invoice import DocumentKind


@dataclass(frozen=True)
class Series:
    """A numbering series: its name (the counter's key), printed prefix and payment-id digit."""

    name: str
    prefix: str
    digit: int

    def number(self, year: int, value: int) -> str:
        return f"{self.prefix}{year:04d}-{value:05d}"


INVOICES = Series("invoice", "", 1)
CREDIT_NOTES = Series("credit_note", "K", 2)


def series_for(kind: DocumentKind, credit_notes_own_series: bool) -> Series:
    """The series a document of *kind* is numbered in."""
    if kind == "credit_note" and credit_notes_own_series:
        return CREDIT_NOTES
    return INVOICES
