"""The customer history: one entry per thing that happened to a customer, with who did it
and a short description in Danish and English. Descriptions name ids, dates and amounts, never
a CPR/CVR number, a name, an address or an e-mail: the history is read by support and kept
without limit, so it holds no personal data beyond the customer's id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

HistoryKind = Literal[
    "profile_updated",
    "signup_registered",
    "signup_rejected",
    "signup_cancelled",
    "supply_activated",
    "supply_ended",
    "product_changed",
    "invoice_issued",
    "credit_note_issued",
    "payment_received",
    "payment_overdue",
    "gdpr",
]

SYSTEM = "system"
"""Who did it when no API key did: DataHub's messages, the scheduler, another service's
events."""

_SIGNUP_TYPES = {
    "switch": ("leverandørskift", "change of supplier"),
    "move_in": ("tilflytning", "move-in"),
}
_END_REASONS = {
    "move_out": ("fraflytning", "move-out"),
    "end_of_supply": ("ophør af levering", "end of supply"),
    "switched_away": ("skift til anden leverandør", "switched to another supplier"),
    "erroneous_switch": ("fejlagtigt leverandørskift", "erroneous switch"),
}


@dataclass(frozen=True)
class Entry:
    """What happened, in both languages; ``reference``: the id it concerns (a signup, an
    invoice number, a payment)."""

    kind: HistoryKind
    description_da: str
    description_en: str
    reference: str | None = None


def _kr(amount: Decimal) -> str:
    """An amount in kroner to the øre, Danish style: 1.234,50 kr."""
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".") + " kr"


def signup_registered(
    signup_id: str, kind: str, gsrn: str, effective: date, channel: str | None, version: int
) -> Entry:
    da, en = _SIGNUP_TYPES.get(kind, (kind, kind))
    via_da = f" via {channel}" if channel else ""
    via_en = f" through {channel}" if channel else ""
    return Entry(
        "signup_registered",
        f"Tilmelding {signup_id} ({da}) af {gsrn} fra {effective.isoformat()}{via_da}, "
        f"prisversion {version}",
        f"Signup {signup_id} ({en}) of {gsrn} from {effective.isoformat()}{via_en}, "
        f"price version {version}",
        signup_id,
    )


def signup_ended_early(signup_id: str, status: str, reason: str | None) -> Entry:
    """A signup DataHub rejected (with its reason, a code list text) or that was cancelled."""
    if status == "rejected":
        return Entry(
            "signup_rejected",
            f"Tilmelding {signup_id} afvist af DataHub: {reason or 'ingen årsag'}",
            f"Signup {signup_id} rejected by DataHub: {reason or 'no reason'}",
            signup_id,
        )
    return Entry(
        "signup_cancelled",
        f"Tilmelding {signup_id} annulleret",
        f"Signup {signup_id} cancelled",
        signup_id,
    )


def supply_activated(reference: str, gsrn: str, start: date, product: str, version: int) -> Entry:
    return Entry(
        "supply_activated",
        f"Levering af {gsrn} startet {start.isoformat()} ({reference}), produkt {product} "
        f"version {version}",
        f"Supply of {gsrn} started {start.isoformat()} ({reference}), product {product} "
        f"version {version}",
        reference,
    )


def supply_ended(gsrn: str, end: date, reason: str) -> Entry:
    da, en = _END_REASONS.get(reason, (reason, reason))
    return Entry(
        "supply_ended",
        f"Levering af {gsrn} ophører {end.isoformat()} ({da})",
        f"Supply of {gsrn} ends {end.isoformat()} ({en})",
        gsrn,
    )


def product_changed(contract_id: str, gsrn: str, product: str, version: int, start: date) -> Entry:
    return Entry(
        "product_changed",
        f"Produktskift for {gsrn} fra {start.isoformat()}: {product} version {version}",
        f"Product change for {gsrn} from {start.isoformat()}: {product} version {version}",
        contract_id,
    )


def invoice_issued(number: str, total: Decimal, due: date, credit_note: bool) -> Entry:
    if credit_note:
        return Entry(
            "credit_note_issued",
            f"Kreditnota {number} udstedt: {_kr(total)}",
            f"Credit note {number} issued: {_kr(total)}",
            number,
        )
    return Entry(
        "invoice_issued",
        f"Faktura {number} udstedt: {_kr(total)}, forfalder {due.isoformat()}",
        f"Invoice {number} issued: {_kr(total)}, due {due.isoformat()}",
        number,
    )


def payment_received(amount: Decimal, received: date, numbers: list[str], source: str) -> Entry:
    pays_da = f" af {', '.join(numbers)}" if numbers else ""
    pays_en = f" of {', '.join(numbers)}" if numbers else ""
    return Entry(
        "payment_received",
        f"Betaling{pays_da} modtaget {received.isoformat()}: {_kr(amount)} ({source})",
        f"Payment{pays_en} received {received.isoformat()}: {_kr(amount)} ({source})",
        ", ".join(numbers) or None,
    )


def payment_overdue(number: str, outstanding: Decimal, due: date) -> Entry:
    return Entry(
        "payment_overdue",
        f"Faktura {number} ikke betalt til forfald {due.isoformat()}: {_kr(outstanding)} udestår",
        f"Invoice {number} not paid by {due.isoformat()}: {_kr(outstanding)} outstanding",
        number,
    )


def profile_updated(fields: list[str]) -> Entry:
    return Entry(
        "profile_updated",
        f"Kundeoplysninger opdateret: {', '.join(fields)}",
        f"Customer details updated: {', '.join(fields)}",
    )
