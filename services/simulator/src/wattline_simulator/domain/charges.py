"""The simulated charges: each grid area's grid company and Energinet, with their prices.

Grid companies use Tarifmodel 3.0: an hourly tariff (D03) with low (00-06), high (06-17 and
21-24) and peak (17-21) Danish local hours, dearer in winter (October-March) than in summer,
and a monthly subscription (D01). Energinet charges a flat transmission and system tariff.
Prices are DKK per kWh (tariffs) or per month (subscriptions), as exact Decimals.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from wattline_simulator.domain.market import DANISH_TZ, GRID_AREA_WEIGHTS, local_day_bounds

ENERGINET_GLN = "5790000432752"
GRID_AREAS = tuple(area for area, _ in GRID_AREA_WEIGHTS)


def gln_with_check_digit(first12: str) -> str:
    """A GLN from its first 12 digits and the GS1 mod-10 check digit."""
    if not (len(first12) == 12 and first12.isdigit()):
        raise ValueError("a GLN body is 12 digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first12)))
    return first12 + str((10 - total % 10) % 10)


# One (made-up) grid company per grid area: 579999410 + the grid area + the check digit.
GRID_COMPANY_GLN = {area: gln_with_check_digit(f"579999410{area}") for area in GRID_AREAS}

GRID_TARIFF_ID = "NT-C-TIME"
GRID_SUBSCRIPTION_ID = "NT-ABON"
TRANSMISSION_TARIFF_ID = "40000"
SYSTEM_TARIFF_ID = "41000"

# DKK/kWh per season and band (Tarifmodel 3.0, C-customer level).
GRID_TARIFF = {
    "winter": {"low": Decimal("0.1302"), "high": Decimal("0.3906"), "peak": Decimal("1.1718")},
    "summer": {"low": Decimal("0.1302"), "high": Decimal("0.1953"), "peak": Decimal("0.5078")},
}
GRID_SUBSCRIPTION_DKK_PER_MONTH = Decimal("21.25")
# Energinet's tariffs, DKK/kWh: the documented 2024 rates (transmission 7.4 ore, system
# 5.1 ore), used for 2025 as datahub.md gives no 2025 rates.
TRANSMISSION_TARIFF = Decimal("0.074")
SYSTEM_TARIFF = Decimal("0.051")
# Elafgift (electricity tax), DKK/kWh excl. VAT, from each date (datahub.md: 76.1 ore in 2024,
# about 72 in 2025, 0.8 in 2026-2027): DataHub carries it as Energinet's tax-flagged tariff.
ELECTRICITY_TAX_ID = "EA-001"
ELECTRICITY_TAX = (
    (date(2024, 1, 1), Decimal("0.761")),
    (date(2025, 1, 1), Decimal("0.720")),
    (date(2026, 1, 1), Decimal("0.008")),
)


def electricity_tax(day: date) -> Decimal:
    """The electricity tax rate in force on *day*."""
    return next(rate for since, rate in reversed(ELECTRICITY_TAX) if since <= day)


def season(day: date) -> str:
    return "winter" if day.month >= 10 or day.month <= 3 else "summer"


def band(local_hour: int) -> str:
    if local_hour < 6:
        return "low"
    if 17 <= local_hour < 21:
        return "peak"
    return "high"


def grid_tariff(day: date, local_hour: int) -> Decimal:
    """The grid tariff (DKK/kWh) of a local hour of *day*."""
    return GRID_TARIFF[season(day)][band(local_hour)]


def local_hours(day: date) -> list[int]:
    """The local hour of each UTC hour of *day* (24 values; 23 or 25 on DST days)."""
    start, end = local_day_bounds(day)
    hours = (end - start) // timedelta(hours=1)
    return [(start + timedelta(hours=i)).astimezone(DANISH_TZ).hour for i in range(hours)]


def month_later(instant: datetime) -> datetime:
    """The same local date and time one calendar month later (a P1M interval's end)."""
    local = instant.astimezone(DANISH_TZ)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(instant.tzinfo)


@dataclass(frozen=True)
class ChargeDef:
    """A charge as DataHub holds it: owner, type, id and master data."""

    owner_gln: str
    charge_type: str  # D01 subscription, D03 tariff
    charge_id: str
    name: str
    description: str
    resolution: str  # PT1H for tariffs, P1M for subscriptions
    transparent_invoicing: bool


def grid_charges(grid_area: str) -> tuple[ChargeDef, ChargeDef]:
    owner = GRID_COMPANY_GLN[grid_area]
    return (
        ChargeDef(
            owner,
            "D03",
            GRID_TARIFF_ID,
            f"Nettarif C time {grid_area}",
            f"Hourly grid tariff (Tarifmodel 3.0), grid area {grid_area}",
            "PT1H",
            True,
        ),
        ChargeDef(
            owner,
            "D01",
            GRID_SUBSCRIPTION_ID,
            f"Netabonnement C {grid_area}",
            f"Monthly grid subscription, grid area {grid_area}",
            "P1M",
            False,
        ),
    )


ENERGINET_CHARGES = (
    ChargeDef(
        ENERGINET_GLN,
        "D03",
        TRANSMISSION_TARIFF_ID,
        "Transmissions nettarif",
        "Energinet's transmission grid tariff",
        "PT1H",
        True,
    ),
    ChargeDef(
        ENERGINET_GLN,
        "D03",
        SYSTEM_TARIFF_ID,
        "Systemtarif",
        "Energinet's system tariff",
        "PT1H",
        True,
    ),
    ChargeDef(
        ENERGINET_GLN,
        "D03",
        ELECTRICITY_TAX_ID,
        "Elafgift",
        "Electricity tax",
        "PT1H",
        True,
    ),
)


def owners() -> list[tuple[str, tuple[ChargeDef, ...]]]:
    """Every charge owner with its charges: the grid companies by grid area, then Energinet."""
    result: list[tuple[str, tuple[ChargeDef, ...]]] = [
        (GRID_COMPANY_GLN[a], grid_charges(a)) for a in GRID_AREAS
    ]
    return [*result, (ENERGINET_GLN, ENERGINET_CHARGES)]


def linked_charges(grid_area: str) -> tuple[ChargeDef, ...]:
    """The charges a metering point in *grid_area* is linked to when supplied."""
    return (*grid_charges(grid_area), *ENERGINET_CHARGES)


def hourly_prices(charge: ChargeDef, day: date) -> list[Decimal]:
    """A tariff's prices of *day*, one per position (UTC hour order, local-hour priced)."""
    if charge.charge_id == TRANSMISSION_TARIFF_ID:
        return [TRANSMISSION_TARIFF for _ in local_hours(day)]
    if charge.charge_id == SYSTEM_TARIFF_ID:
        return [SYSTEM_TARIFF for _ in local_hours(day)]
    if charge.charge_id == ELECTRICITY_TAX_ID:
        return [electricity_tax(day) for _ in local_hours(day)]
    return [grid_tariff(day, h) for h in local_hours(day)]
