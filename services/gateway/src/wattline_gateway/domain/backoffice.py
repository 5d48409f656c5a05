"""Back-office users: usernames, passwords (scrypt, a salt per user) and session tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")  # as the column's CHECK
USER_PREFIX = "user:"  # a session's identity is named user:<username> (the audit trail's key)
# scrypt's cost: 16 MiB and some 50 ms a login, slow for a guesser, fine for a person.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_DUMMY_SALT = bytes(16)


class InvalidUsername(ValueError):
    """A username that is not 1-63 lower-case letters, digits, '.', '_' or '-'."""


def validate_username(username: str) -> str:
    """*username* as stored, or InvalidUsername."""
    if not USERNAME_PATTERN.match(username):
        raise InvalidUsername(
            f"invalid username {username!r}: 1-63 lower-case letters, digits, '.', '_' or '-'"
        )
    return username


def new_password() -> str:
    """A random password to hand a new user once (about 190 bits)."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` of *password*, with a fresh salt."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether *password* is the one *stored* was made of, compared in constant time. With
    no *stored* hash (no such user) the same work is done, so timing tells no usernames."""
    if stored is None:
        _scrypt(password, _DUMMY_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, bytes.fromhex(digest))


def new_session_token() -> str:
    """The secret a session cookie carries (only its hash is stored)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 of a session token (random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024)
