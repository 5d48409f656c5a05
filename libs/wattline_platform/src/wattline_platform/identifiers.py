"""Market identifiers: GSRN (metering point) and GLN (market participant)."""

from __future__ import annotations

import re

from stdnum import ean

_GSRN = re.compile(r"^57[0-9]{16}$")
_GLN = re.compile(r"^[0-9]{13}$")


def is_valid_gsrn(value: str) -> bool:
    """An 18-digit GSRN starting ``57`` with a correct GS1 mod-10 check digit."""
    return bool(_GSRN.match(value)) and ean.calc_check_digit(value[:-1]) == value[-1]


def is_valid_gln(value: str) -> bool:
    """A 13-digit GLN with a correct GS1 mod-10 check digit."""
    return bool(_GLN.match(value)) and ean.calc_check_digit(value[:-1]) == value[-1]


def gsrn_with_check_digit(first17: str) -> str:
    """Complete the first 17 digits of a GSRN with its check digit."""
    return first17 + ean.calc_check_digit(first17)
