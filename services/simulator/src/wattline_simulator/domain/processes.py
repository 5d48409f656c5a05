"""Market rules for RSM-001 requests: BRS-001 change of supplier (E03), BRS-009 move-in (E65),
BRS-002 end of supply (E20), BRS-010 move-out (E66), BRS-003 rollback of a change of supplier
(D07) and BRS-011 incorrect move (D33).

DataHub checks a request in this order and rejects with the official reason codes:

* ``E10`` metering point not identifiable (unknown GSRN);
* ``E16`` unauthorised supplier (the sender is not a known supplier, or asks on behalf of
  another supplier);
* ``E22`` metering point blocked for switching, or another process already open on it
  (the simulator uses E22 for both, with a text saying which);
* ``E17`` requested date not within the time limits: a Danish local midnight, for a change of
  supplier from ``min_days_ahead`` to ``max_days_ahead`` days after today, for a move-in from
  ``move_in_business_days_back`` business days back to ``move_in_max_days_ahead`` days ahead;
* ``D17`` incorrect CPR/CVR: a change of supplier must name the registered customer, a move-in
  must name its (new) customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from wattline_platform.business_days import business_days_back

DANISH_TZ = ZoneInfo("Europe/Copenhagen")
CHANGE_OF_SUPPLIER = "E03"
MOVE_IN = "E65"
END_OF_SUPPLY = "E20"
MOVE_OUT = "E66"
# Processes that end the requesting supplier's own supply (no customer named).
ENDING_PROCESSES = (END_OF_SUPPLY, MOVE_OUT)
ROLLBACK = "D07"  # BRS-003: the previous supplier takes back a wrongly switched point
INCORRECT_MOVE = "D33"  # BRS-011: a move-in's date corrected by the supplier that moved in
# Processes that correct an earlier one and so name no customer either.
CORRECTING_PROCESSES = (ROLLBACK, INCORRECT_MOVE)
HANDLED_PROCESSES = (CHANGE_OF_SUPPLIER, MOVE_IN, *ENDING_PROCESSES, *CORRECTING_PROCESSES)


@dataclass(frozen=True)
class Limits:
    """The configurable time limits of the two processes."""

    min_days_ahead: int = 1
    max_days_ahead: int = 365
    move_in_business_days_back: int = 5
    move_in_max_days_ahead: int = 60


@dataclass(frozen=True)
class Request:
    """What the rules need from an RSM-001 request."""

    process_type: str
    sender_gln: str
    supplier_gln: str
    effective_start: datetime
    customer_key: str | None  # hash of scheme + CPR/CVR; None when the request has none


@dataclass(frozen=True)
class PointState:
    """What the rules need from the metering point (None: unknown GSRN)."""

    supplier_gln: str | None
    customer_key: str | None
    blocked: bool
    open_process: bool
    last_completed: Completed | None = None


@dataclass(frozen=True)
class Completed:
    """The most recent completed process on the metering point."""

    process_type: str
    supplier_gln: str
    previous_supplier_gln: str | None
    effective_start: datetime


Reason = tuple[str, str]


def decide(
    request: Request,
    point: PointState | None,
    known_suppliers: frozenset[str],
    now: datetime,
    limits: Limits,
) -> list[Reason]:
    """The reasons to reject *request* (empty: confirm), first failing rule only."""
    if point is None:
        return [("E10", "metering point not identifiable")]
    if request.sender_gln not in known_suppliers or request.supplier_gln != request.sender_gln:
        return [("E16", "unauthorised supplier")]
    if request.process_type in ENDING_PROCESSES and point.supplier_gln != request.sender_gln:
        return [("E16", "only the current supplier can end the supply")]
    corrected = _corrects(request, point)
    if corrected is not None:
        return [corrected]
    last = point.last_completed
    if (
        request.process_type == ROLLBACK
        and last
        and request.effective_start != last.effective_start
    ):
        return [("E17", "a rollback starts when the switch it undoes started")]
    if point.blocked:
        return [("E22", "metering point blocked for switching")]
    if point.open_process:
        return [("E22", "another process is already open on the metering point")]
    dated = _date_reason(request, now, limits)
    if dated is not None:
        return [dated]
    if request.process_type in (*ENDING_PROCESSES, *CORRECTING_PROCESSES):
        return []  # ending or correcting one's own supply names no customer
    if request.customer_key is None:
        return [("D17", "CPR/CVR missing")]
    if request.process_type == CHANGE_OF_SUPPLIER and request.customer_key != point.customer_key:
        return [("D17", "CPR/CVR does not match the customer of the metering point")]
    return []


def _corrects(request: Request, point: PointState) -> Reason | None:
    """Why a rollback or an incorrect-move request does not fit the process it corrects."""
    last = point.last_completed
    if request.process_type == ROLLBACK:
        if last is None or last.process_type != CHANGE_OF_SUPPLIER:
            return ("E16", "no change of supplier to roll back")
        if last.previous_supplier_gln != request.sender_gln:
            return ("E16", "only the previous supplier can roll the change back")
    if request.process_type == INCORRECT_MOVE and (
        last is None
        or last.process_type != MOVE_IN
        or last.supplier_gln != request.sender_gln
        or point.supplier_gln != request.sender_gln
    ):
        return ("E16", "only the supplier that moved the customer in can correct the move")
    return None


def _date_reason(request: Request, now: datetime, limits: Limits) -> Reason | None:
    local = request.effective_start.astimezone(DANISH_TZ)
    if (local.hour, local.minute, local.second) != (0, 0, 0):
        return ("E17", "requested date must be a Danish local midnight")
    day, today = local.date(), now.astimezone(DANISH_TZ).date()
    if request.process_type == ROLLBACK:
        return None  # checked against the switch it undoes (see decide)
    if request.process_type in (MOVE_IN, INCORRECT_MOVE):
        earliest = business_days_back(today, limits.move_in_business_days_back)
        latest = today + timedelta(days=limits.move_in_max_days_ahead)
    else:
        earliest = today + timedelta(days=limits.min_days_ahead)
        latest = today + timedelta(days=limits.max_days_ahead)
    if not earliest <= day <= latest:
        return (
            "E17",
            f"requested date {day.isoformat()} not within {earliest.isoformat()}"
            f"..{latest.isoformat()}",
        )
    return None


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=DANISH_TZ).astimezone(UTC)
