"""Every event type Wattline publishes, by name."""

from __future__ import annotations

from wattline_contracts.envelope import Event
from wattline_contracts.portfolio import MeteringPointRegisteredV1

EVENTS: tuple[type[Event], ...] = (MeteringPointRegisteredV1,)

_BY_KEY = {(e.TYPE, e.VERSION): e for e in EVENTS}


def event_class(type_: str, version: int) -> type[Event] | None:
    """The model of event *type_* in *version*, or None if unknown."""
    return _BY_KEY.get((type_, version))


def topics() -> list[str]:
    """Topic names of all registered events."""
    return sorted({e.topic() for e in EVENTS})
