"""Which of a customer's periods on a metering point (supply periods, contracts) is "current",
as the portal shows it. Periods are ``[start, end)`` Danish local dates, ``end`` None: open."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

Span = tuple[date, date | None]


def covers(span: Span, day: date) -> bool:
    """*day* lies in *span*."""
    start, end = span
    return start <= day and (end is None or day < end)


def current(spans: Sequence[Span], today: date) -> int:
    """The index of the current one of *spans* (non-empty, ordered by start): the one covering
    *today*; else the next to begin (a switch that takes effect later is what the customer
    has signed up to); else the latest (supply ended: what the customer last had)."""
    if not spans:
        raise ValueError("no periods")
    for k, span in enumerate(spans):
        if covers(span, today):
            return k
    upcoming = [k for k, (start, _) in enumerate(spans) if start > today]
    return upcoming[0] if upcoming else max(range(len(spans)), key=lambda k: spans[k][0])
