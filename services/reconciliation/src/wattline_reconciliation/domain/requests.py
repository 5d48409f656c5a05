"""What reconciliation may ask DataHub for: its totals for a grid area (RSM-016) or a metering
point's data (RSM-015), over whole Danish local days, or a grid area's wholesale settlement of
one month (RSM-017)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

MAX_DAYS = 31  # a month at a time: DataHub answers a request with one document per day

Kind = Literal["RSM-015", "RSM-016", "RSM-017"]


class InvalidRequest(ValueError):
    """A request DataHub would refuse: the message says why."""


def month_days(billing_period: str) -> tuple[date, date]:
    """The local days [first, first of the next month) of *billing_period* ``YYYY-MM``."""
    first = date(int(billing_period[:4]), int(billing_period[5:7]), 1)
    return first, (first + timedelta(days=31)).replace(day=1)


@dataclass(frozen=True)
class DataRequest:
    kind: Kind
    start: date
    end: date  # exclusive
    grid_area: str | None = None
    gsrn: str | None = None
    metering_point_type: str | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidRequest("end_date must be after start_date")
        if self.end - self.start > timedelta(days=MAX_DAYS):
            raise InvalidRequest(f"at most {MAX_DAYS} days per request")
        if self.kind == "RSM-016" and (self.grid_area is None or self.gsrn is not None):
            raise InvalidRequest("RSM-016 asks for a grid_area's totals (and no gsrn)")
        if self.kind == "RSM-015" and (self.gsrn is None or self.grid_area is not None):
            raise InvalidRequest("RSM-015 asks for a gsrn's metering data (and no grid_area)")
        if self.kind == "RSM-017":
            # Wholesale settlement is calculated per month: DataHub answers whole months.
            if self.grid_area is None or self.gsrn is not None:
                raise InvalidRequest("RSM-017 asks for a grid_area's settlement (and no gsrn)")
            if (self.start, self.end) != month_days(f"{self.start:%Y-%m}"):
                raise InvalidRequest("RSM-017 asks for one whole month")
            if self.metering_point_type is not None:
                raise InvalidRequest("RSM-017 asks for every metering point type")

    @classmethod
    def of(
        cls,
        kind: Kind,
        *,
        start: date | None = None,
        end: date | None = None,
        billing_period: str | None = None,
        grid_area: str | None = None,
        gsrn: str | None = None,
        metering_point_type: str | None = None,
    ) -> DataRequest:
        """A request as asked: local days [start, end) for RSM-015/016, a billing period
        ``YYYY-MM`` for RSM-017."""
        if kind == "RSM-017":
            if billing_period is None or start is not None or end is not None:
                raise InvalidRequest("RSM-017 asks for a billing_period (not start/end dates)")
            start, end = month_days(billing_period)
        elif start is None or end is None or billing_period is not None:
            raise InvalidRequest(f"{kind} asks for start_date and end_date (not a month)")
        return cls(kind, start, end, grid_area, gsrn, metering_point_type)


# What became of a request at the datahub service and DataHub, as reconciliation hears of it.
RequestStatus = Literal["raised", "sent", "failed", "rejected"]
Outcome = Literal["sent", "failed", "rejected"]
_FINAL: tuple[RequestStatus, ...] = ("failed", "rejected")


def status_after(current: RequestStatus, outcome: Outcome) -> RequestStatus | None:
    """The request's status once *outcome* is heard of, or None when it changes nothing.

    ``failed`` (never sent: it could not be built, or DataHub refused the document outright)
    and ``rejected`` (DataHub refused a transaction of it later) are final: the events come on
    different topics, so a late ``sent`` after a rejection must not reopen the request. A
    rejection can still follow ``sent``; one without ``sent`` first means ``sent`` is on its
    way.
    """
    if current in _FINAL or current == outcome:
        return None
    if outcome == "sent" and current != "raised":
        return None
    return outcome


def gap_ask_at(first_seen: datetime, wait: timedelta) -> datetime:
    """When to ask DataHub about a gap first seen at *first_seen*.

    The two sides of a day arrive separately (RSM-012s as the grid companies send them,
    RSM-014 once DataHub has aggregated), so a gap seen the moment one side arrives is
    usually the other side on its way: asking at once would send DataHub a request for
    nearly every day and grid area. A gap that has stood for *wait* is worth asking about.
    """
    return first_seen + wait
