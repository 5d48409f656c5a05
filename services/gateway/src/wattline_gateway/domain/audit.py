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
from urllib.parse import unquote

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_PATH = 1000  # characters kept of a path or target (paths are ids; a longer one is junk)


def is_recorded(method: str) -> bool:
    """True for the methods whose calls the trail records."""
    return method.upper() in STATE_CHANGING


def target_of(raw_path: str) -> str | None:
    """The decoded path after ``/api/<first segment>/``; None for ``/api/<first segment>``."""
    rest = raw_path.removeprefix("/api/").partition("/")[2].strip("/")
    return unquote(rest)[:MAX_PATH] or None


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
