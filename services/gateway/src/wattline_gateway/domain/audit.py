"""The audit trail's rules: which calls are recorded, and what of them.

A call is recorded when it may change state (its method is not a read). Of it the trail keeps
who (the key), when, the method, the path as received and the target: the path after
``/api/<first segment>/``, decoded (``SGN-2026-00042/cancel`` of
``/api/signups/SGN-2026-00042/cancel``). Never the query string or the body, which may carry
names, addresses or CPR numbers; the path holds only ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_PATH = 1000  # characters kept of a path or target (paths are ids; a longer one is junk)


def is_recorded(method: str) -> bool:
    """True for the methods whose calls the trail records."""
    return method.upper() in STATE_CHANGING


def target_of(routed_rest: str) -> str | None:
    """The target of a call: *routed_rest*, the decoded path after ``/api/<first segment>``
    as the gateway's router read it (its empty segments gone), without its slashes at either
    end; None for ``/api/<first segment>`` itself.

    Not read off the raw path: ``//api/x/ID``, ``/api//x/ID`` and ``/api/x//ID`` are routed
    (and answered) as ``/api/x/ID``, so their target is ``ID`` too, or a caller could keep its
    call out of a search by target.
    """
    return routed_rest.strip("/")[:MAX_PATH] or None


@dataclass(frozen=True)
class AuditEntry:
    """One recorded call; ``status`` None: its outcome is unknown (not answered yet, or the
    gateway stopped before it was)."""

    id: int
    at: datetime
    key_id: str
    key_name: str
    method: str
    path: str
    target: str | None
    correlation_id: str
    status: int | None
