"""The event envelope every message on the bus carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class Event(BaseModel):
    """Base of every event payload: frozen, named in the past tense with a version suffix.

    Subclasses set ``TYPE`` (also the topic name, ``<context>.<event>``) and ``VERSION``.
    A breaking change is a new class with a new version, never an edit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]

    @classmethod
    def topic(cls) -> str:
        """Kafka topic of this event type."""
        return cls.TYPE


class Envelope(BaseModel):
    """Metadata around one event; ``payload`` holds the event's own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    type: str = Field(description="event name, also the topic: <context>.<event>")
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    correlation_id: str
    causation_id: uuid.UUID | None = None
    producer: str
    key: str = Field(description="aggregate id the topic is partitioned by (GSRN, invoice id)")
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        key: str,
        producer: str,
        correlation_id: str,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Self:
        """Put *event* in an envelope."""
        return cls(
            event_id=event_id or uuid.uuid4(),
            type=event.TYPE,
            version=event.VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            correlation_id=correlation_id,
            causation_id=causation_id,
            producer=producer,
            key=key,
            payload=event.model_dump(mode="json"),
        )
