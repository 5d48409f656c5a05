"""The webhooks HTTP API (``/api/webhooks``): partners who cannot consume Kafka subscribe a
URL to invoicing's events and read their delivery log. Thin, as ``api.py``: typed models
in and out (defined here, since they belong to no other API), errors mapped to
problem+json types in one table (``_PROBLEMS``).

What a receiver gets is documented on :func:`wattline_invoicing.domain.webhooks.body` and in
the summary of ``POST /api/webhooks``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.inputs import Cursor, PageSize
from wattline_platform.pii import PiiCipher
from wattline_platform.problem import Problem, uuid_or_404

from wattline_invoicing.adapters.webhooks import TIMEOUT_S, Delivery, Subscription
from wattline_invoicing.domain.webhooks import EVENT_TYPES, InvalidWebhookUrl, UnknownEventType
from wattline_invoicing.handlers import Invoicing, webhooks
from wattline_invoicing.handlers.cursors import InvalidCursor
from wattline_invoicing.handlers.webhooks import (
    DeliveryInFlight,
    DeliveryNotFound,
    WebhookDisabled,
    WebhookNotFound,
)

# -- models ----------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=4096,  # bounds the request; the rule (2048, http(s), a host) is the domain's
        description="http:// or https:// URL with a host, no user or password; we POST to it",
        examples=["https://partner.example/hooks/wattline"],
    )
    event_types: list[Annotated[str, Field(max_length=100)]] = Field(
        max_length=50, description=f"one or more of: {', '.join(EVENT_TYPES)}"
    )
    description: str | None = Field(default=None, max_length=500, pattern=r"^[^\x00]*$")


class WebhookOut(_Out):
    webhook_id: str
    url: str
    event_types: list[str]
    description: str | None
    status: Literal["active", "disabled"]
    created_at: datetime
    disabled_at: datetime | None
    starts_after_outbox_id: int = Field(
        description="it receives the events written after this position of our event log"
    )


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="the Standard Webhooks signing secret (whsec_ + base64): shown only now; "
        "verify webhook-signature with it (e.g. standardwebhooks.Webhook(secret).verify)"
    )


class WebhookPage(_Out):
    items: list[WebhookOut]
    next: str | None = Field(description="cursor for ?after= (None: the last page)")


class EventTypesOut(_Out):
    event_types: list[str]


class WebhookDeliveryOut(_Out):
    delivery_id: str
    event_id: str = Field(description="also the webhook-id header, the same on every attempt")
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int = Field(description="attempts made (or being made)")
    last_attempt_at: datetime | None
    last_status: int | None = Field(description="the receiver's HTTP status (None: no answer)")
    last_error: str | None = Field(description="why the last attempt failed, one short line")
    next_attempt_at: datetime | None = Field(description="when it is tried next (pending)")
    created_at: datetime


class DeliveryPage(_Out):
    items: list[WebhookDeliveryOut]
    next: str | None = Field(description="cursor for ?after= (None: the last page)")


def _webhook(sub: Subscription) -> WebhookOut:
    return WebhookOut(
        webhook_id=str(sub.subscription_id),
        url=sub.url,
        event_types=list(sub.event_types),
        description=sub.description,
        status=sub.status,
        created_at=sub.created_at,
        disabled_at=sub.disabled_at,
        starts_after_outbox_id=sub.start_after,
    )


def _delivery(item: Delivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        delivery_id=str(item.delivery_id),
        event_id=str(item.event_id),
        event_type=item.event_type,
        status=item.status,
        attempts=item.attempts,
        last_attempt_at=item.last_attempt_at,
        last_status=item.last_status,
        last_error=item.last_error,
        next_attempt_at=item.next_attempt_at,
        created_at=item.created_at,
    )


# -- errors ----------------------------------------------------------------------------------

# Error -> (status, problem type, title).
_PROBLEMS: dict[type[Exception], tuple[int, str, str]] = {
    InvalidWebhookUrl: (400, "invalid-webhook-url", "Not a URL we send webhooks to"),
    UnknownEventType: (400, "unknown-event-type", "Not an event type invoicing publishes"),
    InvalidCursor: (400, "invalid-cursor", "Not a cursor this API handed out"),
    WebhookNotFound: (404, "webhook-not-found", "No such webhook"),
    DeliveryNotFound: (404, "delivery-not-found", "No such delivery of this webhook"),
    WebhookDisabled: (409, "webhook-disabled", "The webhook is disabled"),
    DeliveryInFlight: (409, "delivery-in-flight", "The delivery is being attempted now"),
}


@asynccontextmanager
async def _problems() -> AsyncIterator[None]:
    try:
        yield
    except tuple(_PROBLEMS) as exc:
        status, kind, title = _PROBLEMS[type(exc)]
        raise Problem(status, kind, title, str(exc)) from None


def _uuid(value: str, what: str) -> uuid.UUID:
    return uuid_or_404(value, what, detail_limit=100)


def routes(inv: Invoicing, cipher: PiiCipher | None = None) -> list[type[Controller]]:
    """The webhook controllers bound to *inv*. *cipher* seals the signing secrets in the
    table (None: stored as they are); the webhook job must be given the same one."""

    class WebhookController(Controller):
        path = "/api/webhooks"
        tags = ["webhooks"]

        @post(
            "/",
            status_code=201,
            summary="Subscribe a URL to invoicing events (the signing secret is shown once)",
            description=(
                "From the next event on, each event of the chosen types is POSTed to the URL "
                'as JSON {"type", "version", "event_id", "occurred_at", "data": {the '
                "event's fields}}, signed per Standard Webhooks (headers webhook-id = the "
                "event id, webhook-timestamp, webhook-signature). A 2xx answer is success; "
                f"anything else, or no answer within {TIMEOUT_S:g} s, is tried "
                f"again after {webhooks.SCHEDULE.describe()} ({webhooks.SCHEDULE.max_attempts} "
                "attempts), always with the same webhook-id. Delivery is at least once and "
                "unordered: deduplicate on webhook-id."
            ),
        )
        async def subscribe(self, data: JSONBody[WebhookIn]) -> WebhookCreated:
            async with _problems():
                created = await webhooks.subscribe(
                    inv, data.url, data.event_types, data.description, cipher=cipher
                )
            return WebhookCreated(
                **_webhook(created.subscription).model_dump(), secret=created.secret
            )

        @get("/", summary="Webhook subscriptions, oldest first (keyset: ?after=); no secrets")
        async def list_webhooks(
            self, after: FromQuery[Cursor] = None, limit: FromQuery[PageSize] = 100
        ) -> WebhookPage:
            async with _problems():
                items, cursor = await webhooks.subscriptions(inv, after, limit)
            return WebhookPage(items=[_webhook(s) for s in items], next=cursor)

        @get("/event-types", summary="The event types a webhook can subscribe to")
        async def event_types(self) -> EventTypesOut:
            return EventTypesOut(event_types=list(EVENT_TYPES))

        @get("/{webhook_id:str}", summary="A webhook subscription (no secret)")
        async def detail(self, webhook_id: FromPath[str]) -> WebhookOut:
            async with _problems():
                return _webhook(await webhooks.subscription(inv, _uuid(webhook_id, "webhook")))

        @delete(
            "/{webhook_id:str}",
            status_code=200,
            summary="Disable a webhook: nothing more is sent to it",
        )
        async def disable(self, webhook_id: FromPath[str]) -> WebhookOut:
            async with _problems():
                return _webhook(await webhooks.disable(inv, _uuid(webhook_id, "webhook")))

        @get(
            "/{webhook_id:str}/deliveries",
            summary="A webhook's delivery log, newest event first (keyset: ?after=)",
        )
        async def deliveries(
            self,
            webhook_id: FromPath[str],
            status: FromQuery[Literal["pending", "succeeded", "failed"] | None] = None,
            after: FromQuery[Cursor] = None,
            limit: FromQuery[PageSize] = 100,
        ) -> DeliveryPage:
            async with _problems():
                items, cursor = await webhooks.deliveries(
                    inv, _uuid(webhook_id, "webhook"), status=status, after=after, limit=limit
                )
            return DeliveryPage(items=[_delivery(d) for d in items], next=cursor)

        @post(
            "/{webhook_id:str}/deliveries/{delivery_id:str}/resend",
            status_code=202,
            summary="Send a delivery again now (also after it failed), with the same webhook-id",
        )
        async def resend(
            self, webhook_id: FromPath[str], delivery_id: FromPath[str]
        ) -> WebhookDeliveryOut:
            async with _problems():
                return _delivery(
                    await webhooks.resend(
                        inv, _uuid(webhook_id, "webhook"), _uuid(delivery_id, "delivery")
                    )
                )

    return [WebhookController]
