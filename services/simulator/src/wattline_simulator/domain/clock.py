"""The simulated market clock: it only moves forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class NoClockMove(ValueError):
    """A clock move names neither a time nor a number of days."""


class ClockBackwards(ValueError):
    """A clock move to before the simulated now."""

    def __init__(self, now: datetime) -> None:
        super().__init__(now.isoformat())
        self.now = now


def target(now: datetime, to: datetime | None, advance_days: int | None) -> datetime:
    """Where a move from *now* takes the clock: *to* (UTC if naive) or *advance_days* later.

    Raises ``NoClockMove`` without either and ``ClockBackwards`` for a time before *now*.
    """
    if to is not None:
        moved = to if to.tzinfo else to.replace(tzinfo=UTC)
    elif advance_days is not None:
        moved = now + timedelta(days=advance_days)
    else:
        raise NoClockMove
    if moved < now:
        raise ClockBackwards(now)
    return moved
