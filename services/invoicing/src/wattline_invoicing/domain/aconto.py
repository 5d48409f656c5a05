"""Aconto: the quarterly prepayment (forudbetaling) and its estimate.

A payer on aconto pays each quarter in advance; the quarter's final settlement (opgørelse)
deducts what was prepaid from what settlement settled and bills the next quarter's prepayment
on the same invoice (``invoice.Draft``: ``difference = total - aconto_paid``,
``amount_due = difference + next_prepayment``; reference §5.10).

The estimate of a quarter for a metering point is §5.10's model with measured inputs where we
have them::

    round((kWh x price_per_kWh + subscriptions_per_month x 3) x (1 + VAT rate))

(for a monthly aconto payer the same with one month).

* ``kWh``: what the point consumed in the same quarter a year earlier (as settled), else the
  default annual consumption / 4 (new customers);
* ``price_per_kWh`` and ``subscriptions_per_month``: the current prices, read off the newest
  settled quarter of the point (its per-kWh lines' amounts / kWh, its subscription lines'
  amounts / months), else the configured default for the product (new customers).

A part quarter (a customer who starts mid-quarter) is prorated by days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from wattline_platform.money import round_money

from wattline_invoicing.domain.invoice import ZERO, Billable

SUBSCRIPTIONS = frozenset({"grid_subscription", "supplier_subscription"})
# One-off fees (DataHub D02) recur in no later cycle: not part of what a prepayment estimates.
ONE_OFF = frozenset({"grid_fee", "energinet_fee"})


@dataclass(frozen=True)
class PriceBasis:
    """Current prices excl. VAT: all per-kWh elements together, and the subscriptions."""

    dkk_per_kwh: Decimal
    subscriptions_per_month: Decimal


@dataclass(frozen=True)
class AcontoDefault:
    """What a new customer's estimate starts from (no history yet)."""

    annual_kwh: Decimal
    dkk_per_kwh: Decimal
    subscriptions_per_month: Decimal

    @property
    def basis(self) -> PriceBasis:
        return PriceBasis(self.dkk_per_kwh, self.subscriptions_per_month)


def basis_from(billables: Iterable[Billable], months: int) -> PriceBasis | None:
    """The prices settled in *billables* (one point's settlements over *months* months);
    None when they settled no kWh."""
    kwh = ZERO
    per_kwh = ZERO
    subscriptions = ZERO
    for billable in billables:
        kwh += billable.consumption_kwh if billable.kind == "settlement" else ZERO
        for line in billable.lines:
            if line.code in ONE_OFF:
                continue
            if line.code in SUBSCRIPTIONS:
                subscriptions += line.amount
            else:
                per_kwh += line.amount
    if kwh <= 0 or months <= 0:
        return None
    return PriceBasis(per_kwh / kwh, subscriptions / months)


def estimate(
    kwh: Decimal,
    basis: PriceBasis,
    vat_rate: Decimal,
    *,
    months: int = 3,
    share: Decimal = Decimal(1),
) -> Decimal:
    """The prepayment (incl. VAT) for a cycle of *months* months in which *kwh* are expected,
    *share* of it for a part cycle; never negative."""
    if kwh < 0 or months < 1 or not 0 <= share <= 1:
        raise ValueError("kWh not negative, at least a month, share within 0..1")
    excl_vat = kwh * basis.dkk_per_kwh + basis.subscriptions_per_month * months
    return round_money(max(excl_vat, ZERO) * (1 + vat_rate) * share)
