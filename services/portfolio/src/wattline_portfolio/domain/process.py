"""The life of a BRS process we run at DataHub, as a state machine.

``pending`` (created; raised to the datahub service after the hold) → ``sent_to_datahub``
(DataHub accepted the document) → ``acknowledged`` → ``effectuation_pending`` (DataHub
confirmed; waiting for the effective date) → ``completed``; or ``rejected`` (DataHub's reasons),
or ``cancellation_pending`` → ``cancelled`` through RSM-002.

Events from DataHub arrive on different topics, so in any order: an answer may come before
the "sent" receipt, the master data (RSM-022) before the answer. Every transition accepts
what can legitimately arrive late or twice and ignores it (no steps) instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from wattline_contracts.portfolio import BrsKind, ProcessStatus

SignupType = Literal["switch", "move_in"]
BackOfficeKind = Literal["end_of_supply", "move_out", "erroneous_switch", "erroneous_move"]
# What a sales channel sees of a signup. ``ended``: the supply it started has ended (or is known
# to end: another supplier takes over from a date), with the offboarding reason and end date.
SignupStatus = Literal["registered", "processing", "active", "rejected", "cancelled", "ended"]

SIGNUP_KINDS: dict[SignupType, BrsKind] = {"switch": "BRS-001", "move_in": "BRS-009"}
BACK_OFFICE_KINDS: dict[BackOfficeKind, BrsKind] = {
    "end_of_supply": "BRS-002",
    "move_out": "BRS-010",
    "erroneous_switch": "BRS-003",
    "erroneous_move": "BRS-011",
}
# Completed by DataHub's master data (RSM-022) on the effective date: our supply (re)starts.
COMPLETED_BY_MASTER_DATA: tuple[BrsKind, ...] = ("BRS-001", "BRS-009", "BRS-003", "BRS-011")
# Completed by our own clock on the effective date: our supply ends, DataHub sends nothing.
COMPLETED_ON_DATE: tuple[BrsKind, ...] = ("BRS-002", "BRS-010")

FINAL: tuple[ProcessStatus, ...] = ("completed", "rejected", "cancelled")
_BEFORE_ANSWER: tuple[ProcessStatus, ...] = ("pending", "sent_to_datahub")
_EXTERNAL: dict[ProcessStatus, SignupStatus] = {
    "pending": "registered",
    "sent_to_datahub": "processing",
    "acknowledged": "processing",
    "effectuation_pending": "processing",
    "cancellation_pending": "processing",
    "completed": "active",
    "rejected": "rejected",
    "cancelled": "cancelled",
}


def external_status(status: ProcessStatus) -> SignupStatus:
    """What a sales channel sees of the signup's process: registered, processing, active,
    rejected or cancelled (``ended`` comes from the supply period, never from the process)."""
    return _EXTERNAL[status]


class NotCancellable(Exception):
    """Cancelling is too late (completed: use a move-out or end of supply) or pointless."""


@dataclass(frozen=True)
class Step:
    """One entry of the process's timeline: the status it reached and why."""

    status: ProcessStatus
    detail: str


@dataclass(frozen=True)
class Process:
    """What the rules need of a process."""

    kind: BrsKind
    effective_date: date
    status: ProcessStatus
    raised: bool = False
    status_before_cancel: ProcessStatus | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL

    def _to(self, *steps: Step) -> tuple[Process, list[Step]]:
        return replace(self, status=steps[-1].status), list(steps)

    def _same(self) -> tuple[Process, list[Step]]:
        return self, []

    def raise_request(self) -> tuple[Process, list[Step]]:
        """Handed to the datahub service (the hold is over)."""
        if self.status != "pending" or self.raised:
            return self._same()
        return replace(self, raised=True), []

    def sent(self) -> tuple[Process, list[Step]]:
        """DataHub accepted the document (202); its answer comes later."""
        if self.status != "pending":
            return self._same()
        return self._to(Step("sent_to_datahub", "DataHub received the request"))

    def answered(self, accepted: bool, reasons: list[str]) -> tuple[Process, list[Step]]:
        """DataHub confirmed or rejected the request (RSM-001 answer)."""
        why = "; ".join(reasons)
        if self.status in _BEFORE_ANSWER:
            if accepted:
                return self._to(
                    Step("acknowledged", "DataHub confirmed the request"),
                    Step("effectuation_pending", f"effective {self.effective_date.isoformat()}"),
                )
            return self._to(Step("rejected", why or "rejected by DataHub"))
        if self.status == "cancellation_pending":
            if accepted:  # the cancellation will decide; remember where it would fall back to
                return replace(self, status_before_cancel="effectuation_pending"), []
            return self._to(Step("cancelled", f"DataHub rejected the request anyway: {why}"))
        return self._same()

    def send_failed(self, reason: str) -> tuple[Process, list[Step]]:
        """DataHub refused the document outright (or it could not be built)."""
        if self.status in _BEFORE_ANSWER:
            return self._to(Step("rejected", f"DataHub refused the request: {reason}"))
        if self.status == "cancellation_pending" and self.status_before_cancel in _BEFORE_ANSWER:
            return self._to(Step("cancelled", f"the request never reached DataHub: {reason}"))
        return self._same()

    def cancel(self) -> tuple[Process, list[Step], bool]:
        """Cancel at the customer's or back office's request. Returns the new state, its steps
        and whether DataHub must be asked (RSM-002); NotCancellable when too late."""
        if self.status == "completed":
            raise NotCancellable("the process is completed: end the supply instead")
        if self.status == "rejected":
            raise NotCancellable("the process was rejected by DataHub: nothing to cancel")
        if self.status in ("cancelled", "cancellation_pending"):
            return self, [], False
        if self.status == "pending" and not self.raised:
            process, steps = self._to(Step("cancelled", "cancelled before it was sent"))
            return process, steps, False
        step = Step("cancellation_pending", "cancellation sent to DataHub (RSM-002)")
        return replace(self, status=step.status, status_before_cancel=self.status), [step], True

    def cancel_answered(self, accepted: bool, reasons: list[str]) -> tuple[Process, list[Step]]:
        """DataHub's answer to our RSM-002."""
        if self.status != "cancellation_pending":
            return self._same()
        if accepted:
            return self._to(Step("cancelled", "DataHub confirmed the cancellation"))
        back = self.status_before_cancel or "effectuation_pending"
        if back == "pending":
            back = "sent_to_datahub"
        step = Step(back, f"DataHub refused the cancellation: {'; '.join(reasons)}")
        return replace(self, status=back, status_before_cancel=None), [step]

    def effectuated(self, detail: str) -> tuple[Process, list[Step]]:
        """The effective date came: DataHub's master data arrived, or (for an ending process)
        our clock passed the date."""
        if self.status == "completed" or self.status in ("rejected", "cancelled"):
            return self._same()
        return self._to(Step("completed", detail))
