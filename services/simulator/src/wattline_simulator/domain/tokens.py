"""OAuth2 client-credentials tokens: HMAC-signed, self-contained, expiring."""

from __future__ import annotations

import base64
import hashlib
import hmac


def issue(client_id: str, expires_at: int, key: bytes) -> str:
    """A bearer token for *client_id* valid until *expires_at* (epoch seconds)."""
    body = f"{client_id}.{expires_at}"
    sig = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return (
        base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        + "."
        + (base64.urlsafe_b64encode(sig).decode().rstrip("="))
    )


def verify(token: str, now: int, key: bytes) -> str | None:
    """The client id of a valid, unexpired *token*; None otherwise."""
    try:
        body_b64, sig_b64 = token.split(".")
        body = base64.urlsafe_b64decode(body_b64 + "=" * (-len(body_b64) % 4)).decode()
        sig = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
        client_id, expires_at = body.rsplit(".", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(sig, expected) or int(expires_at) <= now:
        return None
    return client_id
