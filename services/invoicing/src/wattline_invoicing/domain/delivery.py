"""Delivering a bill to its payer: when a failed attempt is tried again.

A delivery (one per document and channel) is ``pending`` until it is ``sent``; a payer
without an address for the channel is ``no_address`` (paper or the portal, never retried);
one that keeps failing is ``failed`` after the last retry. A failure is mostly the mail
server's (down, greylisting, a full queue), so the waits grow: a minute, five, half an hour,
two hours, twelve, about 15 hours in all, long enough for an outage to be mended and short
enough that a bill reaches its payer well before its due date (14 days by default).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

Status = Literal["pending", "sent", "failed", "no_address"]
Channel = Literal["email", "digital_post"]

# The channels every new document is delivered on, from the transaction that issues it.
# Digital Post / e-Boks would join for the payers who chose it (adapters.mailer's docstring).
CHANNELS: tuple[Channel, ...] = ("email",)

RETRY_AFTER: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1


def retry_after(attempts: int) -> timedelta | None:
    """The wait before the next attempt once *attempts* (>= 1) attempts have failed; None when
    that was the last one (the delivery has ``failed``)."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    if attempts > len(RETRY_AFTER):
        return None
    return RETRY_AFTER[attempts - 1]
