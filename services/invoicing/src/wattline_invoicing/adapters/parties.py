"""The payer's personal data, opened from the portfolio's sealed party only where a bill needs
it (to print the name and address, to send it by e-mail); never stored opened, never logged.

The sealed JSON is what the portfolio seals (``Party.sealed``): ``name``, ``cpr_cvr``,
``contact_type``, ``address`` {``street``, ``house_number``, ``floor``, ``door``,
``postal_code``, ``city``}, ``email``, ``phone``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from wattline_platform.pii import PiiCipher, PiiError


@dataclass(frozen=True)
class Payer:
    name: str
    address_lines: tuple[str, ...]
    email: str | None


class Parties:
    """Opens sealed parties with the PII key (None: this deployment has none)."""

    def __init__(self, cipher: PiiCipher | None) -> None:
        self._cipher = cipher

    @property
    def available(self) -> bool:
        """True when this deployment holds the PII key (bills can name the payer)."""
        return self._cipher is not None

    def open(self, sealed: str) -> Payer | None:
        """The payer's name, postal address and e-mail; None when it cannot be opened."""
        if self._cipher is None:
            return None
        try:
            data = json.loads(self._cipher.open(sealed))
        except (PiiError, ValueError):
            return None
        address = data.get("address") or {}
        # Danish style: "Åboulevarden 12, 3. tv" (floor with a full stop, then the door).
        street = " ".join(p for p in (address.get("street"), address.get("house_number")) if p)
        floor, door = address.get("floor"), address.get("door")
        if floor or door:
            where = " ".join(p for p in (f"{floor}." if floor else None, door) if p)
            street = f"{street}, {where}" if street else where
        city = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
        return Payer(
            name=str(data.get("name", "")),
            address_lines=tuple(line for line in (street, city) if line),
            email=data.get("email") or None,
        )
