"""Personal data sealed for storage and found again by blind indexes (PII_KEY)."""

from __future__ import annotations

import json

from wattline_platform.pii import PiiCipher

from wattline_portfolio.domain.identity import Person


class Vault:
    """Seal, open and index personal data with the shared PII key."""

    def __init__(self, cipher: PiiCipher) -> None:
        self.cipher = cipher

    def seal_person(self, person: Person) -> str:
        return self.cipher.seal(json.dumps(person.to_json(), sort_keys=True))

    def open_person(self, sealed: str) -> Person:
        return Person.from_json(json.loads(self.cipher.open(sealed)))

    def seal(self, value: str) -> str:
        return self.cipher.seal(value)

    def open(self, sealed: str) -> str:
        return self.cipher.open(sealed)

    def index(self, value: str) -> str:
        """Blind index of a personal value (CPR/CVR, name, e-mail), normalised."""
        return self.cipher.blind_index(value)

    def fingerprint(self, value: str) -> str:
        """Blind index of an exact text (a request body: any difference is a difference)."""
        return self.cipher.blind_index(value, normalise=False)
