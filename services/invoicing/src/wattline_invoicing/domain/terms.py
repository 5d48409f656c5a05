"""Payment terms: when an invoice falls due."""

from __future__ import annotations

from datetime import date, timedelta

from wattline_platform.business_days import is_business_day


def due_date(issue_date: date, days: int) -> date:
    """*days* calendar days after *issue_date*, moved to the next Danish business day when
    that is a weekend or a public holiday (a payer cannot pay on a day the banks are shut)."""
    if days < 0:
        raise ValueError("payment terms cannot be negative")
    due = issue_date + timedelta(days=days)
    while not is_business_day(due):
        due += timedelta(days=1)
    return due
