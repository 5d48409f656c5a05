"""API keys: format, hashing and scope rules."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PATTERN = re.compile(r"^wl_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})$")
# portal:issue: may issue customers' portal tokens (domain/portal_tokens.py).
SCOPE_PATTERN = re.compile(r"^(admin|portal:issue|[a-z][a-z-]*:(read|write))$")
# A key's name is on the audit trail beside users' 'user:<name>': no ':' in it.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
CHANNEL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # as the column's CHECK
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InvalidScope(ValueError):
    """A scope that is not ``admin`` or ``<service>:read|write``."""


class InvalidName(ValueError):
    """A key name that is not 1-100 letters, digits, '.', '_' or '-' (starting with neither
    of the last three)."""


class InvalidChannel(ValueError):
    """A sales channel name that is not lower-case letters, digits, ``-`` and ``_``."""


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: ``secret`` is shown once, ``key_hash`` is stored."""

    prefix: str
    secret: str
    key_hash: str


def generate() -> NewKey:
    """A random key ``wl_<prefix>_<secret>``; the prefix finds it, the hash verifies it."""
    prefix = secrets.token_hex(6)
    key = f"wl_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(prefix, key, hash_key(key))


def hash_key(key: str) -> str:
    """SHA-256 of the whole key (keys are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def parse_prefix(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    match = KEY_PATTERN.match(key)
    return match.group(1) if match else None


def verify(key: str, key_hash: str) -> bool:
    """Constant-time comparison of *key* with a stored hash."""
    return hmac.compare_digest(hash_key(key), key_hash)


def validate_scopes(scopes: list[str]) -> list[str]:
    """Reject unknown scope shapes."""
    bad = [s for s in scopes if not SCOPE_PATTERN.match(s)]
    if bad or not scopes:
        raise InvalidScope(
            f"invalid scopes {bad or scopes}: use admin, portal:issue or <service>:read|write"
        )
    return sorted(set(scopes))


def validate_name(name: str) -> str:
    """*name* as stored, or InvalidName."""
    if not re.match(NAME_PATTERN, name):
        raise InvalidName(f"invalid key name {name!r}: 1-100 letters, digits, '.', '_' or '-'")
    return name


def validate_channel(channel: str | None) -> str | None:
    """A channel name as stored (None: a back-office key bound to no channel)."""
    if channel is None:
        return None
    if not CHANNEL_PATTERN.match(channel):
        raise InvalidChannel(
            f"invalid channel {channel!r}: 1-63 lower-case letters, digits, '-' or '_'"
        )
    return channel


def allows(scopes: frozenset[str], service: str, method: str) -> bool:
    """True when *scopes* permit *method* on *service*'s API (write implies read)."""
    if "admin" in scopes or f"{service}:write" in scopes:
        return True
    return method.upper() in READ_METHODS and f"{service}:read" in scopes
