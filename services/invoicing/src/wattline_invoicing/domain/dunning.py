"""Dunning: what happens to an invoice that is not paid by its due date, day by day.

The state of one invoice is its stage: ``0`` overdue (no reminder yet), ``1``..``n`` after the
n-th reminder, then ``collection`` (handed to debt collection). The policy says when each step
is due, within renteloven (the Danish Interest Act, reference ``payments.md`` §5):

* an invoice is **overdue** ``grace_business_days`` Danish business days after its due date
  (a payment made on the due date may take a bank day to arrive);
* **reminders** follow, the first on the day it becomes overdue, then at least
  ``reminder_interval_days`` (at least 10, § 9 b) calendar days apart, each sent on a business day;
  at most three bear a **fee** of at most 100 kr (§ 9 b, stk. 2); a claim that is **disputed**
  gets no reminder at all until the dispute is resolved (a dunning stop);
* ``collection_after_days`` after the last reminder the claim is **handed to debt
  collection** (an export file);
* **interest** runs from the due date at the reference rate (Danmarks Nationalbank's lending
  rate of 1 January / 1 July) + 8 percentage points a year (§ 5), simple interest per day on
  what is outstanding, booked with each reminder for the days since the last booking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from wattline_platform.money import round_money

MAX_FEE = Decimal("100.00")
MAX_FEE_BEARING = 3
MIN_INTERVAL_DAYS = 10
INTEREST_MARGIN = Decimal("0.08")


class PolicyOutsideTheLaw(ValueError):
    """A dunning policy renteloven does not allow."""


@dataclass(frozen=True)
class Policy:
    grace_business_days: int = 3
    reminders: int = 3
    reminder_interval_days: int = 10
    reminder_fee: Decimal = Decimal("100.00")
    collection_after_days: int = 10
    interest: bool = True

    def __post_init__(self) -> None:
        if self.reminder_fee > MAX_FEE or self.reminder_fee < 0:
            raise PolicyOutsideTheLaw("a reminder fee is at most 100 kr (renteloven § 9 b)")
        if self.reminder_interval_days < MIN_INTERVAL_DAYS:
            raise PolicyOutsideTheLaw("reminders are at least 10 days apart (renteloven § 9 b)")
        if not 1 <= self.reminders <= 6 or self.grace_business_days < 0:
            raise PolicyOutsideTheLaw("1..6 reminders and a grace of 0 or more business days")
        if self.collection_after_days < MIN_INTERVAL_DAYS:
            raise PolicyOutsideTheLaw("collection at least 10 days after the last reminder")

    def fee_for(self, reminder: int) -> Decimal:
        """The fee of the *reminder*-th reminder (1-based): only the first three bear one."""
        return self.reminder_fee if reminder <= MAX_FEE_BEARING else Decimal("0.00")


@dataclass(frozen=True)
class State:
    due_date: date
    stage: int | None  # None: not overdue yet; 0: overdue; n: after n reminders
    last_step_on: date | None
    handed_off: bool
    disputed: bool
    interest_from: date  # interest is booked up to (excluding) this day


@dataclass(frozen=True)
class Step:
    kind: str  # "overdue", "reminder", "collection"
    on: date
    reminder: int | None = None
    fee: Decimal = Decimal("0.00")


def overdue_on(due: date, grace: int, is_business_day: Callable[[date], bool]) -> date:
    """The day an invoice due on *due* counts as overdue: *grace* business days after it."""
    day = due
    left = grace
    while left > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            left -= 1
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def next_step(
    state: State, policy: Policy, today: date, is_business_day: Callable[[date], bool]
) -> Step | None:
    """The step due on *today*, or None (not yet, done, or stopped by a dispute)."""
    if state.handed_off or not is_business_day(today):
        return None
    if state.stage is None:
        due = overdue_on(state.due_date, policy.grace_business_days, is_business_day)
        return Step("overdue", today) if today >= due else None
    if state.disputed:
        return None
    assert state.last_step_on is not None
    if state.stage < policy.reminders:
        wait = 0 if state.stage == 0 else policy.reminder_interval_days
        if today >= state.last_step_on + timedelta(days=wait):
            n = state.stage + 1
            return Step("reminder", today, reminder=n, fee=policy.fee_for(n))
        return None
    if today >= state.last_step_on + timedelta(days=policy.collection_after_days):
        return Step("collection", today)
    return None


@dataclass(frozen=True)
class Rate:
    """The reference rate from a day on (a year's rate, e.g. 0.0375 for 3.75 %)."""

    valid_from: date
    rate: Decimal


def interest(outstanding: Decimal, start: date, end: date, rates: Sequence[Rate]) -> Decimal:
    """Simple interest on *outstanding* for the days [start, end) at the reference rate of
    each day + 8 percentage points, per 365-day year, rounded once to øre."""
    if outstanding <= 0 or end <= start:
        return Decimal("0.00")
    ordered = sorted(rates, key=lambda r: r.valid_from)
    total = Decimal(0)
    day = start
    while day < end:
        applicable = [r for r in ordered if r.valid_from <= day]
        if not applicable:
            raise ValueError(f"no reference rate on {day}")
        rate = applicable[-1]
        later = [r.valid_from for r in ordered if r.valid_from > day]
        stop = min([end, *later])
        total += outstanding * (rate.rate + INTEREST_MARGIN) * (stop - day).days / 365
        day = stop
    return round_money(total)
