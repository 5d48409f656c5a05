"""Versioned event contracts shared by Wattline's services."""

from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.registry import EVENTS, event_class, topics

__all__ = ["EVENTS", "Envelope", "Event", "event_class", "topics"]
