"""Billing cycles: which months one invoice bills.

Settlement settles per calendar month (``billing_period`` ``YYYY-MM``, Danish local dates). A
contract is billed ``monthly`` (one invoice per month, in arrears) or ``quarterly`` (the Danish
default: one invoice per calendar quarter, with aconto prepayments or in arrears). A cycle is
named ``2025-01`` (a month) or ``2025-Q1`` (a quarter) and covers ``[start, end)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Frequency = Literal["monthly", "quarterly"]

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class InvalidCycle(ValueError):
    """Not a cycle name (``YYYY-MM`` or ``YYYY-Qn``)."""


@dataclass(frozen=True, order=True)
class Cycle:
    """The months ``[start, end)`` one invoice bills."""

    start: date
    end: date
    frequency: Frequency

    @property
    def name(self) -> str:
        if self.frequency == "monthly":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def months(self) -> tuple[str, ...]:
        """The billing periods (``YYYY-MM``) of the cycle."""
        count = 1 if self.frequency == "monthly" else 3
        return tuple(
            f"{self.start.year:04d}-{self.start.month + offset:02d}" for offset in range(count)
        )

    def next(self) -> Cycle:
        """The cycle after this one."""
        return _cycle(self.end.year, self.end.month, self.frequency)


def _month_after(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def _cycle(year: int, month: int, frequency: Frequency) -> Cycle:
    if frequency == "monthly":
        return Cycle(date(year, month, 1), _month_after(year, month), frequency)
    first = month - (month - 1) % 3
    return Cycle(date(year, first, 1), _month_after(year, first + 2), frequency)


def cycle_of(billing_period: str, frequency: Frequency) -> Cycle:
    """The cycle that bills *billing_period* (``YYYY-MM``) under *frequency*."""
    match = _MONTH.match(billing_period)
    if match is None:
        raise InvalidCycle(billing_period)
    return _cycle(int(match[1]), int(match[2]), frequency)


def parse(name: str) -> Cycle:
    """The cycle called *name*: ``2025-01`` (monthly) or ``2025-Q1`` (quarterly)."""
    if month := _MONTH.match(name):
        return _cycle(int(month[1]), int(month[2]), "monthly")
    if quarter := _QUARTER.match(name):
        return _cycle(int(quarter[1]), 3 * int(quarter[2]) - 2, "quarterly")
    raise InvalidCycle(name)
