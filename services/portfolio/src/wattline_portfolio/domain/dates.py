"""When a process may take effect: each BRS process's window around today (Danish dates).

The switch notice (15 business days) is our product policy from the seed, configurable; the
other limits are DataHub's (datahub.md): a move-in may be dated up to 5 business days back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from wattline_contracts.portfolio import BrsKind
from wattline_platform.business_days import business_days_ahead, business_days_back


class InvalidEffectiveDate(ValueError):
    """A requested date outside the process's window."""


@dataclass(frozen=True)
class DateRules:
    """The windows, in business days (Danish calendar) or calendar days."""

    switch_notice_business_days: int = 15
    switch_max_days_ahead: int = 365
    move_in_business_days_back: int = 5
    move_in_max_days_ahead: int = 60
    end_min_days_ahead: int = 1
    end_max_days_ahead: int = 365
    closed_eves: bool = True

    def window(self, kind: BrsKind, today: date) -> tuple[date, date] | None:
        """(earliest, latest) effective date of *kind* requested on *today*; None: no window
        (an erroneous switch takes the date of the switch it undoes)."""
        if kind == "BRS-001":
            return (
                business_days_ahead(today, self.switch_notice_business_days, self.closed_eves),
                today + timedelta(days=self.switch_max_days_ahead),
            )
        if kind in ("BRS-009", "BRS-011"):
            return (
                business_days_back(today, self.move_in_business_days_back, self.closed_eves),
                today + timedelta(days=self.move_in_max_days_ahead),
            )
        if kind in ("BRS-002", "BRS-010"):
            return (
                today + timedelta(days=self.end_min_days_ahead),
                today + timedelta(days=self.end_max_days_ahead),
            )
        return None

    def earliest(self, kind: BrsKind, today: date) -> date:
        """The soonest effective date of *kind* requested on *today*: "as soon as possible".

        A switch: the first day of its window; a move-in (or anything not dated back): today.
        """
        window = self.window(kind, today)
        if window is None or window[0] <= today:
            return today
        return window[0]

    def check(self, kind: BrsKind, day: date, today: date) -> None:
        """Raise InvalidEffectiveDate when *day* is outside *kind*'s window."""
        window = self.window(kind, today)
        if window is not None and not window[0] <= day <= window[1]:
            raise InvalidEffectiveDate(
                f"{kind} effective date {day.isoformat()} must be between "
                f"{window[0].isoformat()} and {window[1].isoformat()} (today is "
                f"{today.isoformat()})"
            )
