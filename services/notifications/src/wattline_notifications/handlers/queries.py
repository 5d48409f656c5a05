"""Reading and setting contact preferences; a customer's deliveries, keyset-paged."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from wattline_notifications.adapters import store
from wattline_notifications.domain.messages import DEFAULT_PREFERENCE, KINDS, Kind, Preference
from wattline_notifications.handlers import Notifications


class InvalidCursor(ValueError):
    """Not a cursor this API handed out."""


async def preferences(n: Notifications, party_id: str) -> dict[Kind, Preference]:
    async with n.service.database.connection() as conn:
        chosen = await store.preferences(conn, party_id)
    return {kind: chosen.get(kind, DEFAULT_PREFERENCE) for kind in KINDS}


async def set_preferences(
    n: Notifications, party_id: str, chosen: dict[Kind, Preference]
) -> dict[Kind, Preference]:
    async with n.service.database.transaction() as tx:
        await store.set_preferences(tx, party_id, chosen)
    return await preferences(n, party_id)


def _cursor(created_at: datetime, delivery_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{delivery_id}".encode()).decode()


def _parse(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, uuid.UUID(ident)
    except ValueError as exc:
        raise InvalidCursor(cursor[:40]) from exc


async def deliveries(
    n: Notifications, party_id: str, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of *party_id*'s deliveries and the cursor of the next (None: the last)."""
    key = _parse(after) if after else None
    async with n.service.database.connection() as conn:
        rows = await store.deliveries(conn, party_id, key, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    return page, _cursor(last["created_at"], last["delivery_id"]) if more and last else None
