"""Keyset cursors: an opaque token for (a moment, an id), the position after which a page goes
on. Opaque so that clients do not build them; checked so that a forged one is a 400."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime


class InvalidCursor(ValueError):
    """A cursor this service did not hand out."""


def encode(moment: datetime, key: uuid.UUID) -> str:
    raw = f"{moment.isoformat()}|{key}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, key = raw.split("|")
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None or not 2000 <= moment.year <= 2200:
            raise ValueError("not one of ours")
        return moment, uuid.UUID(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None


def encode_position(position: int) -> str:
    """A cursor for a position in a sequence (the ERP feed)."""
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_position(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        digits = raw[1:]
        # ASCII only: str.isdigit() and int() also take Arabic-Indic or full-width digits,
        # which we never hand out.
        if not raw.startswith("p") or not (digits.isascii() and digits.isdigit()) or len(raw) > 19:
            raise ValueError("not a position")
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None
