"""The notifications API's request and response models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wattline_notifications.domain.messages import Kind, Preference


class ContactPreferences(BaseModel):
    """How a customer wants each kind of message: ``email``, ``sms`` or ``none``."""

    model_config = ConfigDict(extra="forbid")

    signup_confirmed: Preference = "email"
    supply_active: Preference = "email"
    invoice_issued: Preference = "email"
    payment_overdue: Preference = "email"
    supply_ending: Preference = "email"


class ContactPreferencesOut(ContactPreferences):
    customer_id: str


class NotificationOut(BaseModel):
    """One message to a customer through one channel and what became of it."""

    delivery_id: uuid.UUID
    event_id: uuid.UUID = Field(description="the event it tells of")
    customer_id: str
    kind: Kind
    channel: Literal["email", "sms"]
    status: Literal["pending", "sent", "failed", "skipped"]
    attempts: int
    last_error: str | None = Field(description="the last failed attempt's reason")
    provider_id: str | None = Field(description="the e-mail's Message-ID, the SMS log's id")
    next_attempt_at: datetime | None = Field(description="pending: when it is tried next")
    created_at: datetime
    sent_at: datetime | None
    sms_text: str | None = Field(description="an SMS: the text the SMS log holds")


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next: str | None = Field(description="the cursor of the next page (?after=); None: last")
