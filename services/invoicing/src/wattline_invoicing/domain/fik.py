"""FI-kort ``+71`` payment ids: the number a payer types in net banking, and how we find the
invoice a payment belongs to.

A ``+71`` id is 15 digits: a 14-digit payload and a check digit. The check digit weighs the
payload's digits 1, 2, 1, 2, … from the left, replaces a product of 10 or more by its digit sum
(subtract 9), and is ``(10 - sum mod 10) mod 10``; for 14 digits this is Luhn
(``../shared/reference/payments.md`` §2; test vectors there).

Our payload is ``<series digit><yy><11-digit invoice number>``, so every invoice number of a
series and year has its own id, and the id alone names the invoice.
"""

from __future__ import annotations

import re

_PAYLOAD = re.compile(r"^[0-9]{14}$")
_PAYMENT_ID = re.compile(r"^[0-9]{15}$")
_CREDITOR = re.compile(r"^8[0-9]{7}$")


class InvalidPaymentId(ValueError):
    """Not a 15-digit +71 payment id with a valid check digit."""


def check_digit(payload: str) -> int:
    """The +71 check digit of a 14-digit *payload*."""
    if not _PAYLOAD.match(payload):
        raise ValueError("a +71 payload has 14 digits")
    total = 0
    for position, char in enumerate(payload):
        product = int(char) * (1 if position % 2 == 0 else 2)
        total += product - 9 if product >= 10 else product
    return (10 - total % 10) % 10


def payment_id(payload: str) -> str:
    """*payload* (at most 14 digits, zero-padded on the left) with its check digit."""
    if not (payload.isascii() and payload.isdigit()) or len(payload) > 14:
        raise ValueError("a +71 payload has at most 14 digits")
    padded = payload.zfill(14)
    return f"{padded}{check_digit(padded)}"


def is_valid(value: str) -> bool:
    """True when *value* is a 15-digit +71 id whose last digit checks."""
    return bool(_PAYMENT_ID.match(value)) and check_digit(value[:14]) == int(value[14])


def for_invoice(series_digit: int, year: int, number: int) -> str:
    """The payment id of invoice *number* of *year* in the series with *series_digit*."""
    if not 0 <= series_digit <= 9 or not 0 < number < 10**11:
        raise ValueError("series digit 0..9 and invoice number 1..10^11-1")
    return payment_id(f"{series_digit}{year % 100:02d}{number:011d}")


def code_line(payment: str, creditor_number: str) -> str:
    """The code line printed on the bill: ``+71<payment id+creditor number<``."""
    if not is_valid(payment):
        raise InvalidPaymentId(payment)
    if not _CREDITOR.match(creditor_number):
        raise ValueError("an FI creditor number has 8 digits and starts with 8")
    return f"+71<{payment}+{creditor_number}<"
