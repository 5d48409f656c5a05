"""Money: exact decimals, rounded half up (away from zero on ties) to whole øre."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ORE = Decimal("0.01")


def round_money(amount: Decimal) -> Decimal:
    """*amount* rounded to 2 decimals, ties away from zero (1.025 → 1.03, -0.425 → -0.43)."""
    return amount.quantize(ORE, rounding=ROUND_HALF_UP)


def to_ore(amount: Decimal) -> int:
    """*amount* in whole øre; ValueError when it has fractions of an øre."""
    ore = amount * 100
    if ore != ore.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of øre")
    return int(ore)


def from_ore(ore: int) -> Decimal:
    """*ore* as kroner with 2 decimals."""
    return (Decimal(ore) / 100).quantize(ORE)
