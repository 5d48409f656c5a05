"""Who a customer or payer is: CPR (private) or CVR (business) numbers, checked and masked."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from stdnum.dk import cpr, cvr
from stdnum.exceptions import ValidationError
from wattline_platform.pii import mask

ContactType = Literal["private", "business"]
# What a signup and an import accept as an e-mail address and a Danish postcode.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
POSTAL_CODE_PATTERN = r"^[0-9]{4}$"  # [0-9]: \d takes any Unicode digit


class InvalidIdentity(ValueError):
    """A CPR/CVR number that python-stdnum does not accept for the contact type."""


def normalise_cpr_cvr(value: str, contact_type: ContactType) -> str:
    """The compact number (digits only) if *value* is a valid CPR (private) or CVR (business).

    A CPR must be a real birth date with a century the serial allows (no future dates); a CVR
    must pass the mod-11 check. The message never repeats the number.
    """
    try:
        if contact_type == "private":
            return str(cpr.validate(value))
        return str(cvr.validate(value))
    except ValidationError as exc:
        kind = "CPR number (DDMMYY-SSSS)" if contact_type == "private" else "CVR number"
        raise InvalidIdentity(f"not a valid {kind}: {exc}") from None


def masked(number: str) -> str:
    """How a CPR/CVR number is shown: a CPR keeps its birth date (``010190****``), a CVR its
    first four digits."""
    return mask(number, 6 if len(number) == 10 else 4)


@dataclass(frozen=True)
class PostalAddress:
    """A postal (billing) address; the supply point's address is its DAR id, not stored."""

    street: str
    house_number: str
    postal_code: str
    city: str
    floor: str | None = None
    door: str | None = None


@dataclass(frozen=True)
class Person:
    """A customer or payer: personal data, only ever stored sealed."""

    name: str
    cpr_cvr: str
    contact_type: ContactType
    address: PostalAddress
    email: str | None = None
    phone: str | None = None

    @classmethod
    def checked(
        cls,
        *,
        name: str,
        cpr_cvr: str,
        contact_type: ContactType,
        address: PostalAddress,
        email: str | None = None,
        phone: str | None = None,
    ) -> Person:
        """A person with a validated, compact CPR/CVR number (InvalidIdentity otherwise)."""
        if not name.strip():
            raise InvalidIdentity("the name is empty")
        number = normalise_cpr_cvr(cpr_cvr, contact_type)
        return cls(name.strip(), number, contact_type, address, email, phone)

    @property
    def scheme(self) -> Literal["ARR", "VAT"]:
        """DataHub's coding scheme of the number: ARR for a CPR, VAT for a CVR."""
        return "ARR" if self.contact_type == "private" else "VAT"

    @property
    def cpr_cvr_masked(self) -> str:
        return masked(self.cpr_cvr)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Person:
        return cls(**{**data, "address": PostalAddress(**data["address"])})
