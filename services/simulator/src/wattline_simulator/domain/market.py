"""The simulated market: grid areas, Danish local days and deterministic consumption profiles.

Pure and integer-only: quantities are whole watt-hours (kWh x 1000), so a value is exact and
renders as a 3-decimal kWh number without ever passing through a float.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from wattline_platform.grid_areas import PRICE_AREAS, PriceArea

DANISH_TZ = ZoneInfo("Europe/Copenhagen")
DATAHUB_GLN = "5790001330552"
# A second (made-up) supplier holding the metering points that are not ours; valid GS1 check.
OTHER_SUPPLIER_GLN = "5799994000046"

# Share of the seeded addresses per grid area, in per mille (sums to 1000): three areas west
# of the Great Belt (DK1), two east of it (DK2).
GRID_AREA_WEIGHTS = (("344", 250), ("131", 150), ("543", 150), ("740", 250), ("791", 200))
# The price area of each simulated grid area, from the platform's one table of real areas.
PRICE_AREA: dict[str, PriceArea] = {area: PRICE_AREAS[area] for area, _ in GRID_AREA_WEIGHTS}

PROFILES = ("household", "business", "solar")

# Relative consumption per local hour 0..23.
_HOURLY = {
    "household": (
        *(30, 26, 24, 23, 24, 30, 50, 78, 72, 55, 48, 47),
        *(50, 48, 46, 52, 70, 100, 104, 92, 80, 68, 52, 38),
    ),
    "business": (
        *(30, 28, 28, 28, 30, 38, 60, 90, 100, 102, 104, 104),
        *(100, 102, 100, 96, 86, 62, 48, 42, 38, 35, 33, 31),
    ),
}
# Per cent of the annual average per month (January first): more in winter.
_SEASON = {
    "household": (135, 128, 112, 96, 84, 76, 74, 78, 88, 104, 120, 134),
    "business": (110, 108, 104, 100, 96, 94, 86, 92, 98, 102, 106, 104),
    "solar": (20, 45, 85, 130, 160, 170, 165, 140, 100, 60, 28, 15),
}
# Solar production: local (sunrise hour, sunset hour) per month.
_DAYLIGHT = (
    (9, 16),
    (8, 17),
    (7, 18),
    (7, 20),
    (6, 21),
    (5, 22),
    (5, 22),
    (6, 21),
    (7, 20),
    (8, 18),
    (8, 16),
    (9, 16),
)

# About 1 % of the metering-point days carry estimated (A03) values.
ESTIMATED_PER_65536 = 655


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start and end of a Danish local day (23, 24 or 25 hours)."""

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=DANISH_TZ).astimezone(UTC)

    return midnight(day), midnight(day + timedelta(days=1))


def local_date(instant: datetime) -> date:
    """The Danish local date of an aware instant."""
    return instant.astimezone(DANISH_TZ).date()


def due_days(first: date, now: datetime) -> list[date]:
    """Local days from *first* on that have fully passed at *now*."""
    days: list[date] = []
    day = first
    while local_day_bounds(day)[1] <= now:
        days.append(day)
        day += timedelta(days=1)
    return days


def _solar_weights(month: int) -> tuple[int, ...]:
    rise, set_ = _DAYLIGHT[month - 1]
    noon2 = rise + set_  # twice the solar noon, in local hours
    half2 = set_ - rise
    # Weight of hour h (its midpoint h + 0.5, doubled to stay integer): a parabola that is
    # zero at sunrise and sunset.
    return tuple(max(0, half2 * half2 - (2 * h + 1 - noon2) ** 2) for h in range(24))


@dataclass(frozen=True)
class DayPlan:
    """Everything about one local day that all metering points share."""

    day: date
    start: datetime
    end: datetime
    hours: int  # 23, 24 or 25
    # Per profile and resolution: the coefficient of each position and the divisor that turns
    # ``annual_kwh * coefficient * noise`` (noise in parts per 10**6) into watt-hours.
    coefficients: dict[tuple[str, str], tuple[int, ...]]
    divisors: dict[tuple[str, str], int]

    def positions(self, resolution: str) -> int:
        return self.hours * (4 if resolution == "PT15M" else 1)


def day_plan(day: date) -> DayPlan:
    """The shared profile coefficients of *day*, position by position (UTC order)."""
    start, end = local_day_bounds(day)
    hours = (end - start) // timedelta(hours=1)
    local_hours = [(start + timedelta(hours=i)).astimezone(DANISH_TZ).hour for i in range(hours)]
    coefficients: dict[tuple[str, str], tuple[int, ...]] = {}
    divisors: dict[tuple[str, str], int] = {}
    for profile in PROFILES:
        weights = _solar_weights(day.month) if profile == "solar" else _HOURLY[profile]
        season = _SEASON[profile][day.month - 1]
        hourly = tuple(season * weights[h] for h in local_hours)
        # annual kWh -> Wh per day: x1000 / 365; weight share: / sum(weights); season: / 100;
        # noise: / 10**6 (two factors in per mille).
        divisor = 365 * sum(weights) * 100 * 1000
        coefficients[(profile, "PT1H")] = hourly
        divisors[(profile, "PT1H")] = divisor
        coefficients[(profile, "PT15M")] = tuple(c for c in hourly for _ in range(4))
        divisors[(profile, "PT15M")] = divisor * 4
    return DayPlan(day, start, end, hours, coefficients, divisors)


@dataclass(frozen=True)
class PointDay:
    """One metering point's values for one local day, in watt-hours, position order."""

    values: list[int]  # what was measured (the truth; what a correction sends)
    sent: list[int]  # what the first RSM-012 sends: estimates in the estimated block
    estimated: tuple[int, int] | None  # [first, last) positions (0-based) that are A03


def point_day(gsrn: str, plan: DayPlan, profile: str, resolution: str, annual_kwh: int) -> PointDay:
    """Deterministic values of *gsrn* on *plan*'s day: same inputs, same watt-hours."""
    key = (profile, resolution)
    coefficients = plan.coefficients[key]
    divisor = plan.divisors[key]
    n = len(coefficients)
    noise = hashlib.shake_128(f"{gsrn}/{plan.day.isoformat()}".encode()).digest(n + 5)
    if profile == "solar":
        day_level = 200 + noise[n] * 1000 // 256  # cloudy 0.2 .. sunny 1.2
        spread, low = 300, 850
    else:
        day_level = 850 + noise[n] * 300 // 256
        spread, low = 600, 700
    base = annual_kwh * day_level
    values = [
        base * c * (low + noise[i] * spread // 256) // divisor for i, c in enumerate(coefficients)
    ]
    if int.from_bytes(noise[n + 1 : n + 3], "big") >= ESTIMATED_PER_65536:
        return PointDay(values, values, None)
    step = 4 if resolution == "PT15M" else 1
    first_hour = noise[n + 3] % plan.hours
    last_hour = min(plan.hours, first_hour + 1 + noise[n + 4] % 3)
    first, last = first_hour * step, last_hour * step
    # The estimate is the profile's expectation (no noise), as a grid company's estimate
    # from history would be.
    expected = [annual_kwh * c * 1000 // divisor for c in coefficients[first:last]]
    sent = values[:first] + expected + values[last:]
    return PointDay(values, sent, (first, last))


def hourly_sums(values: list[int], resolution: str) -> list[int]:
    """Values summed to hours (PT15M -> PT1H); PT1H values unchanged."""
    if resolution == "PT1H":
        return values
    return [sum(values[i : i + 4]) for i in range(0, len(values), 4)]


def kwh_text(wh: int) -> str:
    """Watt-hours as a kWh number with 3 decimals, e.g. 312 -> ``0.312``."""
    sign = "-" if wh < 0 else ""
    whole, milli = divmod(abs(wh), 1000)
    return f"{sign}{whole}.{milli:03d}"
