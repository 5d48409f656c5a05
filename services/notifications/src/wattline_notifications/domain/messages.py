"""What a notification is: its kind, the channel a customer chose for it, its facts in Danish,
and how long a failed delivery waits before the next attempt.

A message is rendered from a template (one per kind and channel, in files: see
``adapters.templates``) and *facts*: the values the event brings, formatted here the Danish way
(``1.234,56``, ``15. januar 2027``), none of them personal. The recipient's name is added only
when the message is sent, opened from the sealed contact.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, get_args

from babel.dates import format_date
from babel.numbers import format_decimal

Kind = Literal[
    "signup_confirmed", "supply_active", "invoice_issued", "payment_overdue", "supply_ending"
]
KINDS: tuple[Kind, ...] = get_args(Kind)
Channel = Literal["email", "sms"]
Preference = Literal["email", "sms", "none"]
DEFAULT_PREFERENCE: Preference = "email"
LOCALE = "da_DK"


def kroner(amount: Decimal) -> str:
    """*amount* in kroner the Danish way, to the øre: ``Decimal("1234.5")`` -> ``1.234,50``."""
    exact = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format_decimal(exact, format="#,##0.00", locale=LOCALE)


def dansk_dato(day: date) -> str:
    """*day* as a Danish letter writes it: ``date(2027, 1, 15)`` -> ``15. januar 2027``."""
    return format_date(day, format="d. MMMM y", locale=LOCALE)


def channels_for(preference: Preference) -> tuple[Channel, ...]:
    """The channels a message of a kind goes through when the customer chose *preference*."""
    if preference == "none":
        return ()
    return (preference,)


@dataclass(frozen=True)
class Template:
    """One kind's text for one channel: a subject (e-mail) and a body, ``$name`` placeholders."""

    subject: str | None
    body: str

    def render(self, values: Mapping[str, str]) -> tuple[str | None, str]:
        """(subject, body) with every placeholder filled; KeyError names a missing value."""
        subject = string.Template(self.subject).substitute(values) if self.subject else None
        return subject, string.Template(self.body).substitute(values)

    @classmethod
    def parse(cls, text: str, *, with_subject: bool) -> Template:
        """A template file: for e-mail its first line is ``Emne: <subject>``, then a blank
        line, then the body."""
        if not with_subject:
            return cls(None, text.strip() + "\n")
        first, _, rest = text.partition("\n")
        if not first.startswith("Emne:"):
            raise ValueError("an e-mail template starts with 'Emne: <subject>'")
        return cls(first.removeprefix("Emne:").strip(), rest.strip() + "\n")


@dataclass(frozen=True)
class Backoff:
    """When a failed delivery is tried again: *first_s* after the first failure, doubling up
    to *max_s*; after *max_attempts* attempts it is failed for good."""

    first_s: float
    max_s: float
    max_attempts: int

    def delay(self, attempts: int) -> timedelta | None:
        """The wait after the *attempts*-th failed attempt; None: give up."""
        if attempts >= self.max_attempts:
            return None
        return timedelta(seconds=min(self.first_s * 2 ** (attempts - 1), self.max_s))
