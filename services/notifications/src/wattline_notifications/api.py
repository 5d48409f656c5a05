"""The notifications HTTP API: a customer's contact preferences and its deliveries."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody, Parameter
from wattline_platform.inputs import Cursor, PageSize
from wattline_platform.problem import Problem

from wattline_notifications.domain.messages import KINDS, Kind, Preference
from wattline_notifications.handlers import Notifications, queries
from wattline_notifications.models import (
    ContactPreferences,
    ContactPreferencesOut,
    NotificationOut,
    NotificationPage,
)

# A party id as the portfolio makes them (a UUID), or any id of at most 64 safe characters.
CustomerId = Annotated[str, Parameter(pattern=r"^[A-Za-z0-9._-]{1,64}$", max_length=64)]


_CUSTOMER_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _customer(value: str) -> str:
    if not _CUSTOMER_ID.fullmatch(value):
        raise Problem(400, "invalid-customer-id", "Not a customer id", value[:40])
    return value


def routes(n: Notifications) -> list[type[Controller]]:
    class Preferences(Controller):
        # Under its own first segment: the gateway sends /api/customers/ to the portfolio.
        path = "/api/notifications/contact-preferences/{customer_id:str}"
        tags = ["notifications"]

        @get("/", summary="How a customer wants each kind of message")
        async def read(self, customer_id: FromPath[str]) -> ContactPreferencesOut:
            chosen = await queries.preferences(n, _customer(customer_id))
            return ContactPreferencesOut(customer_id=customer_id, **chosen)

        @put("/", summary="Set how a customer wants each kind of message (e-mail, SMS, none)")
        async def write(
            self, customer_id: FromPath[str], data: JSONBody[ContactPreferences]
        ) -> ContactPreferencesOut:
            wanted: dict[Kind, Preference] = {kind: getattr(data, kind) for kind in KINDS}
            chosen = await queries.set_preferences(n, _customer(customer_id), wanted)
            return ContactPreferencesOut(customer_id=customer_id, **chosen)

    class Deliveries(Controller):
        path = "/api/notifications"
        tags = ["notifications"]

        @get("/", summary="A customer's notifications: every delivery with its status")
        async def list_(
            self,
            customer_id: CustomerId,
            after: Cursor = None,
            limit: PageSize = 50,
        ) -> NotificationPage:
            try:
                rows, cursor = await queries.deliveries(n, customer_id, after, limit)
            except queries.InvalidCursor as exc:
                raise Problem(
                    400, "invalid-cursor", "Not a cursor this API handed out", str(exc)
                ) from None
            items = [
                NotificationOut(
                    delivery_id=r["delivery_id"],
                    event_id=r["event_id"],
                    customer_id=r["party_id"],
                    kind=r["kind"],
                    channel=r["channel"],
                    status=r["status"],
                    attempts=r["attempts"],
                    last_error=r["last_error"],
                    provider_id=r["provider_id"],
                    next_attempt_at=r["next_attempt_at"] if r["status"] == "pending" else None,
                    created_at=r["created_at"],
                    sent_at=r["sent_at"],
                    sms_text=r["sms_body"],
                )
                for r in rows
            ]
            return NotificationPage(items=items, next=cursor)

    return [Preferences, Deliveries]
