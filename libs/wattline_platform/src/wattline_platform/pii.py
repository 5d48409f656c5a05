"""Personal data (CPR/CVR numbers) sealed with a shared key wherever it leaves memory.

Events and tables carry a Fernet token (AES-128-CBC + HMAC-SHA256, with a timestamp) instead
of the number; only a service holding ``PII_KEY`` can open it, and only where it must
(e.g. to put a CPR in the one DataHub document that needs it).
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


class PiiError(ValueError):
    """A token that this key did not seal (or that was altered)."""


class PiiCipher:
    """Seal and open personal data with one symmetric key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        # A separate key for blind indexes, derived so one secret is all a deployer manages.
        self._index_key = hashlib.sha256(b"wattline blind index\0" + key.encode()).digest()

    @staticmethod
    def new_key() -> str:
        """A fresh random key (urlsafe base64, 32 bytes)."""
        return Fernet.generate_key().decode()

    def seal(self, value: str) -> str:
        """The token for *value*."""
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str) -> str:
        """The value sealed in *token*; PiiError if it was not sealed with this key."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise PiiError("personal data token does not open with this key") from exc

    def blind_index(self, value: str, *, normalise: bool = True) -> str:
        """A keyed hash of *value* to find rows by an exact personal value without storing it;
        equal values give equal indexes. Normalised (trimmed, case-folded) unless told not."""
        if normalise:
            value = " ".join(value.split()).casefold()
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


def mask(value: str, visible: int = 6) -> str:
    """Show only the first *visible* characters (``0101901234`` -> ``010190****``)."""
    return value[:visible] + "*" * max(0, len(value) - visible)
