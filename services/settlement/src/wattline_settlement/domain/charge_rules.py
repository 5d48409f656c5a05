"""Pure rules that turn stored prices, charges and contracts into the engine's input.

Spot prices
    The day-ahead price is hourly for Danish local days before 2025-10-01 (Energi Data
    Service's ``Elspotprices``) and quarter-hourly from that day on (``DayAheadPrices``). A
    spot series covers its period exactly at the stored resolution. A period that spans both
    is returned as ``PT15M``: each quarter of an hourly day gets its hour's price (the price
    the market set for that whole hour), so the engine sees one resolution. A missing price
    is never 0: :class:`MissingPrices` names the area and the first missing intervals.

Charges (DataHub RSM-034 prices, RSM-031 links) and the engine's lines (:data:`ENERGINET_GLN`,
:func:`charge_role` are the one place of this mapping)
    * ``D03`` with ``tax_indicator`` true: ``electricity_tax`` (elafgift, Energinet's EA-001).
    * Energinet's ``D03`` ``40000``: ``transmission_tariff``; ``41000``: ``system_tariff``
      (Energinet's charge ids, which the DataHub simulator uses too).
    * Any other owner's ``D03``: ``grid_tariff``; its ``D01``: ``grid_subscription``. DataHub's
      charge owners are Energinet and the grid companies; settlement's master data holds the
      grid area, not the grid company's GLN, so "not Energinet" is how the grid company's
      charges are recognised.
    * ``D02`` fees are one-off amounts (:func:`fees_of`): a fee is due on its link's start
      date (DataHub links a fee for one day, from that date to the next; its wholesale
      settlement puts the fee on that day) and billed once, in the settlement whose period
      holds that date, at its price on that date times the link's factor (pieces), on
      ``grid_fee`` (a grid company's) or ``energinet_fee`` (Energinet's). A link removed
      (DataHub ends it on its start date) bills nothing, so a correction of its period
      credits the fee. A fee has no day-by-day price.
    * Any other Energinet charge has no line in the engine: settlement is blocked, naming it.

    Only linked charges count: a metering point pays what DataHub linked to it, from the
    link's start to its end, times the link's factor. On a day where several grid tariffs
    (or grid subscriptions) are linked, e.g. a second tariff of the grid company, they are
    summed per position: each is a price per kWh of the same consumption, so the sum gives
    the same amount as settling them one by one (the engine has a single grid tariff line).
    Two electricity taxes at once (e.g. the elvarme rate linked too) are refused: elvarme is
    settled through its own rule (spec §5.7), not by adding taxes. Energinet's tariffs and
    the tax are flat: a series that varies by hour is refused, as the engine could not
    apply it.

Charge prices
    A price series (``start``, ``end``, ``resolution``, one price per position) sets the
    charge's prices from the local date of its start, and keeps them until a later series
    supersedes them. Hourly series (23/24/25 positions a day, in UTC order) become 24 prices by
    local hour (position p = local hour p-1): on the autumn day the first of the two 02:00
    hours counts; on the spring day local hour 02 has no price, so a version that starts on
    that day has no price for position 3 until a later series gives one (using it on a 24-hour
    day blocks the settlement). ``P1D`` and ``P1M`` series are flat prices from each day or
    month. A charge stops on its ``termination_date``.

Supplier prices (portfolio's contracts)
    A contract pins a product version: its margin and subscription apply over the contract's
    days, and a product change is a new contract, hence a new price version from its start.
    The contracts must cover the period without gaps or overlaps. A fixed-price product's
    price applies over its contract's days in place of spot + margin (the
    ``fixed_price_energy`` line), also when the product changes between spot and fixed
    inside a period.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from wattline_platform.business_days import DANISH_TZ, danish_today
from wattline_platform.business_days import local_midnight as local_midnight

from wattline_settlement.domain.engine import days_of, format_instant
from wattline_settlement.domain.model import (
    ChargePart,
    Charges,
    Fee,
    PartVersion,
    Period,
    PriceVersion,
    Resolution,
    Series,
    TariffVersion,
)

HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)

# The first local day of 15-minute day-ahead prices (EDS's DayAheadPrices).
QUARTER_HOUR_SPOT_FROM = date(2025, 10, 1)

# --- the mapping of DataHub's charges to the engine's lines ---------------------------------
ENERGINET_GLN = "5790000432752"
TRANSMISSION_TARIFF_IDS = frozenset({"40000"})
SYSTEM_TARIFF_IDS = frozenset({"41000"})

Role = Literal[
    "grid_tariff",
    "system_tariff",
    "transmission_tariff",
    "electricity_tax",
    "grid_subscription",
]
ROLES: tuple[Role, ...] = (
    "grid_tariff",
    "system_tariff",
    "transmission_tariff",
    "electricity_tax",
    "grid_subscription",
)
_SHOWN = 5  # how many missing intervals or days a message names


# --- errors ----------------------------------------------------------------------------------


class MissingPrices(Exception):
    """Spot prices are missing for some intervals of a period: a settlement must wait."""

    def __init__(
        self, price_area: str, period: Period, missing: Sequence[datetime], total: int
    ) -> None:
        self.price_area = price_area
        self.period = period
        self.missing = tuple(missing)
        self.total = total
        runs = _runs(self.missing)
        shown = ", ".join(_run_text(r) for r in runs[:_SHOWN])
        more = f" and {len(runs) - _SHOWN} more gap(s)" if len(runs) > _SHOWN else ""
        super().__init__(
            f"{price_area} spot prices missing for {len(self.missing)} of {total} intervals "
            f"of {period.start.isoformat()}..{period.end.isoformat()} (end exclusive): "
            f"{shown}{more}"
        )


class ChargeError(Exception):
    """The charges or supplier prices of a settlement cannot be determined."""


class MissingCharges(ChargeError):
    """A charge, a price or a contract the settlement needs is missing; the message says which."""


class ConflictingCharges(MissingCharges):
    """The charges are there but cannot be settled as they are (ambiguous or unrepresentable)."""


class UnsupportedProduct(ChargeError):
    """A contract's product cannot be settled by the engine: its price type without its
    price."""


# --- time --------------------------------------------------------------------------------------


def spot_resolution(day: date) -> Resolution:
    """The day-ahead market's resolution on a local day."""
    return "PT15M" if day >= QUARTER_HOUR_SPOT_FROM else "PT1H"


def step_of(resolution: Resolution) -> timedelta:
    return QUARTER if resolution == "PT15M" else HOUR


def spot_intervals(day: date) -> list[datetime]:
    """The UTC starts of a local day's spot intervals (23/24/25 hours or 92/96/100 quarters)."""
    step = step_of(spot_resolution(day))
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return [start + i * step for i in range((end - start) // step)]


def spot_intervals_between(start_utc: datetime, end_utc: datetime) -> list[datetime]:
    """The spot interval starts in ``[start_utc, end_utc)`` (aligned to each day's resolution)."""
    first, last = danish_today(start_utc), danish_today(end_utc)
    result: list[datetime] = []
    day = first
    while day <= last:
        result.extend(t for t in spot_intervals(day) if start_utc <= t < end_utc)
        day += timedelta(days=1)
    return result


def is_spring_forward(day: date) -> bool:
    """True on the 23-hour local day (no local hour 02)."""
    return local_midnight(day + timedelta(days=1)) - local_midnight(day) < timedelta(hours=24)


def _runs(instants: Sequence[datetime]) -> list[tuple[datetime, datetime, int]]:
    """Consecutive instants (one market interval apart) as (first, last, count)."""
    runs: list[tuple[datetime, datetime, int]] = []
    for t in sorted(instants):
        if runs:
            first, last, count = runs[-1]
            if t - last == step_of(spot_resolution(danish_today(last))):
                runs[-1] = (first, t, count + 1)
                continue
        runs.append((t, t, 1))
    return runs


def _run_text(run: tuple[datetime, datetime, int]) -> str:
    first, last, count = run
    if count == 1:
        return format_instant(first)
    return f"{format_instant(first)}..{format_instant(last)} ({count} intervals)"


# --- spot ----------------------------------------------------------------------------------


def build_spot_series(
    price_area: str, period: Period, prices: Mapping[datetime, Decimal]
) -> Series:
    """The spot series of *period* from stored prices (DKK/kWh by UTC interval start).

    Each local day is read at the market's resolution of that day; a period spanning hourly
    and quarter-hourly days comes back as ``PT15M`` with each hour's price on its four
    quarters. Raises :class:`MissingPrices` if any interval has no price.
    """
    resolutions = {spot_resolution(d) for d in days_of(period)}
    out: Resolution = "PT15M" if "PT15M" in resolutions else "PT1H"
    values: list[Decimal] = []
    missing: list[datetime] = []
    total = 0
    for day in days_of(period):
        repeat = 4 if out == "PT15M" and spot_resolution(day) == "PT1H" else 1
        for start in spot_intervals(day):
            total += 1
            price = prices.get(start)
            if price is None:
                missing.append(start)
            else:
                values.extend([price] * repeat)
    if missing:
        raise MissingPrices(price_area, period, missing, total)
    return Series(out, local_midnight(period.start), tuple(values))


# --- charge prices -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeKey:
    """A charge as DataHub identifies it: owner, type and id."""

    owner_gln: str
    charge_type: str
    charge_id: str

    def __str__(self) -> str:
        return f"{self.charge_type} {self.charge_id} of {self.owner_gln}"


@dataclass(frozen=True)
class ChargePrice:
    """A charge's price from a local date on: 24 local-hour positions or one flat price."""

    valid_from: date
    hourly: tuple[Decimal | None, ...] | None = None
    flat: Decimal | None = None


@dataclass(frozen=True)
class ChargeInfo:
    """What settlement uses of a charge's master data."""

    key: ChargeKey
    tax_indicator: bool | None = None
    termination_date: date | None = None


@dataclass(frozen=True)
class ChargeLinkSpan:
    """A metering point's link to a charge, local dates ``[start, end)``."""

    key: ChargeKey
    start: date
    end: date | None
    factor: int


class InvalidPriceSeries(ValueError):
    """A price series that cannot be read as prices from dates (count, resolution)."""


def first_day_after(end: datetime) -> date:
    """The first local day not covered by an interval that ends at *end* (exclusive)."""
    day = danish_today(end)
    return day if local_midnight(day) == end else day + timedelta(days=1)


def _months_later(day: date, months: int) -> date:
    """The same day *months* later, or the month's last day if it is shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def prices_from_series(
    resolution: str, start: datetime, end: datetime, prices: Sequence[Decimal]
) -> tuple[date, date, list[ChargePrice]]:
    """Read one RSM-034 price series as ``(first day, first day after, versions)``.

    The versions replace whatever the charge had from the first day to the day after; from
    then on the last of them stays in force until a later series. Consecutive days with equal
    prices make one version.
    """
    first, after = danish_today(start), first_day_after(end)
    by_day: list[tuple[date, tuple[Decimal | None, ...] | None, Decimal | None]] = []
    if resolution in ("PT1H", "PT15M"):
        step = HOUR if resolution == "PT1H" else QUARTER
        if (end - start) % step or (end - start) // step != len(prices):
            raise InvalidPriceSeries(
                f"{len(prices)} prices for {format_instant(start)}..{format_instant(end)} "
                f"at {resolution}"
            )
        days: dict[date, list[Decimal | None]] = {}
        seen: set[tuple[date, int, int]] = set()
        for i, price in enumerate(prices):
            local = (start + i * step).astimezone(DANISH_TZ)
            hours = days.setdefault(local.date(), [None] * 24)
            # The autumn day's repeated 02:00 (fold 1) is the second hour 2: the first counts.
            slot = (local.date(), local.hour, local.minute)
            if local.fold or slot in seen:
                continue
            seen.add(slot)
            current = hours[local.hour]
            if current is None:
                hours[local.hour] = price
            elif current != price:
                raise InvalidPriceSeries(
                    f"prices vary within local hour {local.hour:02d} of {local.date()}: "
                    "the engine applies tariffs by local hour"
                )
        by_day = [(d, tuple(h), None) for d, h in sorted(days.items())]
    elif resolution == "P1D":
        count = (after - first).days
        if count != len(prices):
            raise InvalidPriceSeries(f"{len(prices)} prices for {count} days at P1D")
        by_day = [(first + timedelta(days=i), None, p) for i, p in enumerate(prices)]
    elif resolution == "P1M":
        starts = [first]
        while (nxt := _months_later(first, len(starts))) < after:
            starts.append(nxt)
        if len(starts) != len(prices):
            raise InvalidPriceSeries(f"{len(prices)} prices for {len(starts)} months at P1M")
        by_day = [(d, None, p) for d, p in zip(starts, prices, strict=True)]
    else:
        raise InvalidPriceSeries(f"unsupported resolution {resolution!r}")
    versions: list[ChargePrice] = []
    for day, hourly, flat in by_day:
        if versions and (versions[-1].hourly, versions[-1].flat) == (hourly, flat):
            continue
        versions.append(ChargePrice(day, hourly, flat))
    return first, after, versions


# --- charges for a metering point ---------------------------------------------------------------


def charge_role(key: ChargeKey, info: ChargeInfo | None) -> Role | None:
    """The engine line a linked charge belongs to; None for fees (not priced per day: see
    :func:`fees_of`).

    Raises :class:`MissingCharges` for an Energinet charge that has no line in the engine
    (or whose charge information, which says whether it is a tax, has not arrived).
    """
    if key.charge_type == "D02":
        return None
    if key.charge_type == "D03" and info is not None and info.tax_indicator:
        return "electricity_tax"
    if key.owner_gln == ENERGINET_GLN:
        if key.charge_type == "D03" and key.charge_id in TRANSMISSION_TARIFF_IDS:
            return "transmission_tariff"
        if key.charge_type == "D03" and key.charge_id in SYSTEM_TARIFF_IDS:
            return "system_tariff"
        if info is None or info.tax_indicator is None:
            raise MissingCharges(f"charge information (RSM-034 D18) for linked {key} not received")
        raise ConflictingCharges(f"linked {key} has no line in the settlement")
    return "grid_tariff" if key.charge_type == "D03" else "grid_subscription"


def fee_code(key: ChargeKey) -> str:
    """The line a fee (D02) is billed on: Energinet's ``energinet_fee``, a grid company's
    ``grid_fee``."""
    return "energinet_fee" if key.owner_gln == ENERGINET_GLN else "grid_fee"


def fees_of(
    period: Period,
    links: Sequence[ChargeLinkSpan],
    infos: Mapping[ChargeKey, ChargeInfo],
    prices: Mapping[ChargeKey, Sequence[ChargePrice]],
) -> tuple[tuple[Fee, ...], dict[tuple[str, str], list[date]]]:
    """The fees due in *period*: each D02 link whose start date lies in it (and that was not
    removed: a link ending on its start date), at the fee's price on that date times the
    link's factor; with the problems (a fee without a price on its date) keyed as
    :func:`combine_charges` keys its own."""
    fees: list[Fee] = []
    problems: dict[tuple[str, str], list[date]] = {}
    for link in sorted(links, key=lambda ln: (ln.start, str(ln.key))):
        key = link.key
        if key.charge_type != "D02" or not period.start <= link.start < period.end:
            continue
        if link.end is not None and link.end <= link.start:
            continue
        code = fee_code(key)
        price = price_on(prices.get(key, ()), infos.get(key), link.start)
        if price is None:
            problems.setdefault((code, f"no price for {key}"), []).append(link.start)
            continue
        fees.append(
            Fee(
                code,
                key.owner_gln,
                key.charge_type,
                key.charge_id,
                link.start,
                _flat_of(key, price, link.start),
                link.factor,
            )
        )
    return tuple(fees), problems


def price_on(
    versions: Sequence[ChargePrice], info: ChargeInfo | None, day: date
) -> ChargePrice | None:
    """The version in force on *day* (versions sorted by ``valid_from``), None if none."""
    if info is not None and info.termination_date is not None and day >= info.termination_date:
        return None
    found = None
    for version in versions:
        if version.valid_from > day:
            break
        found = version
    return found


_Value = tuple[Decimal | None, tuple[Decimal, ...] | None]  # (flat, hourly)


def _flat_of(key: ChargeKey, price: ChargePrice, day: date) -> Decimal:
    if price.flat is not None:
        return price.flat
    assert price.hourly is not None
    known = {p for p in price.hourly if p is not None}
    if len(known) != 1:
        raise ConflictingCharges(
            f"{key} varies by hour on {day.isoformat()}: the engine takes one price for it"
        )
    return known.pop()


def _hourly_of(key: ChargeKey, price: ChargePrice, day: date) -> tuple[Decimal, ...] | str:
    """24 prices by local hour, or why not."""
    if price.hourly is None:
        assert price.flat is not None
        return (price.flat,) * 24
    hours = list(price.hourly)
    for hour, value in enumerate(hours):
        if value is None:
            if hour == 2 and is_spring_forward(day):
                hours[hour] = hours[1]  # position 3 is not used on the 23-hour day
                continue
            return f"no price for local hour {hour:02d} of {key} from {price.valid_from}"
    return tuple(h for h in hours if h is not None)


def combine_charges(
    period: Period,
    links: Sequence[ChargeLinkSpan],
    infos: Mapping[ChargeKey, ChargeInfo],
    prices: Mapping[ChargeKey, Sequence[ChargePrice]],
    supplier_margin: tuple[PriceVersion, ...],
    supplier_subscription: tuple[PriceVersion, ...],
) -> Charges:
    """The engine's charges for one metering point over *period*, from its links.

    Each role gets one version per run of days with equal prices, the first from
    ``period.start``. Raises :class:`MissingCharges` naming every role, charge and first day
    that has no price, and :class:`ConflictingCharges` for what cannot be settled as it is.
    """
    problems: dict[tuple[str, str], list[date]] = {}
    daily: dict[Role, list[tuple[date, _Value]]] = {role: [] for role in ROLES}
    part_days: dict[tuple[Role, ChargeKey], dict[date, _Value]] = {}
    for day in days_of(period):
        active: dict[ChargeKey, ChargeLinkSpan] = {}
        for link in links:
            if link.start <= day and (link.end is None or day < link.end):
                # A later link to the same charge supersedes an earlier one from its start.
                held = active.get(link.key)
                if held is None or link.start > held.start:
                    active[link.key] = link
        parts: dict[Role, list[tuple[ChargeKey, int, ChargePrice]]] = {r: [] for r in ROLES}
        blocked: set[Role] = set()
        for key, link in sorted(active.items(), key=lambda kv: str(kv[0])):
            info = infos.get(key)
            role = charge_role(key, info)
            if role is None:
                continue
            price = price_on(prices.get(key, ()), info, day)
            if price is None:
                problems.setdefault((role, f"no price for {key}"), []).append(day)
                blocked.add(role)
                continue
            parts[role].append((key, link.factor, price))
        for role in ROLES:
            if role in blocked:
                continue
            found = parts[role]
            if not found:
                problems.setdefault((role, "no linked charge"), []).append(day)
                continue
            value = _combine(role, found, day)
            if isinstance(value, str):
                problems.setdefault((role, value), []).append(day)
            else:
                daily[role].append((day, value))
                for key, factor, price in found:
                    part_days.setdefault((role, key), {})[day] = _part_value(
                        role, key, factor, price, day
                    )
    fees, fee_problems = fees_of(period, links, infos, prices)
    for problem, days in fee_problems.items():
        problems.setdefault(problem, []).extend(days)
    if problems:
        raise MissingCharges(_problem_text(period, problems))
    return Charges(
        supplier_margin=supplier_margin,
        grid_tariff=tuple(
            TariffVersion(d, hourly=h) if h is not None else TariffVersion(d, flat=f)
            for d, (f, h) in _versions(daily["grid_tariff"])
        ),
        system_tariff=_price_versions(daily["system_tariff"]),
        transmission_tariff=_price_versions(daily["transmission_tariff"]),
        electricity_tax=_price_versions(daily["electricity_tax"]),
        grid_subscription=_price_versions(daily["grid_subscription"]),
        supplier_subscription=supplier_subscription,
        parts=_parts(period, part_days),
        fees=fees,
    )


def _part_value(role: Role, key: ChargeKey, factor: int, price: ChargePrice, day: date) -> _Value:
    """One linked charge's price on *day*, its factor applied (as :func:`_combine` sums it)."""
    if role == "grid_tariff" and price.hourly is not None:
        hours = _hourly_of(key, price, day)
        assert not isinstance(hours, str)  # _combine found it whole
        return None, tuple(h * factor for h in hours)
    if role == "grid_tariff":
        assert price.flat is not None
        return price.flat * factor, None
    return _flat_of(key, price, day) * factor, None


def _parts(
    period: Period, part_days: Mapping[tuple[Role, ChargeKey], dict[date, _Value]]
) -> tuple[ChargePart, ...]:
    """Each linked charge with its own price versions over *period* (unlinked days: a
    version without a price), in line order, then by charge."""
    parts = []
    order = {role: k for k, role in enumerate(ROLES)}
    for role, key in sorted(part_days, key=lambda rk: (order[rk[0]], str(rk[1]))):
        days = part_days[role, key]
        versions: list[PartVersion] = []
        for day in days_of(period):
            flat, hourly = days.get(day, (None, None))
            if versions and (versions[-1].flat, versions[-1].hourly) == (flat, hourly):
                continue
            versions.append(PartVersion(day, hourly=hourly, flat=flat))
        parts.append(
            ChargePart(role, key.owner_gln, key.charge_type, key.charge_id, tuple(versions))
        )
    return tuple(parts)


def _combine(
    role: Role, parts: list[tuple[ChargeKey, int, ChargePrice]], day: date
) -> _Value | str:
    if role == "electricity_tax" and len(parts) > 1:
        names = ", ".join(str(k) for k, _, _ in parts)
        raise ConflictingCharges(
            f"several electricity taxes linked on {day.isoformat()} ({names}): elvarme is "
            "settled by its own rule"
        )
    if role != "grid_tariff":
        return sum((_flat_of(k, p, day) * factor for k, factor, p in parts), Decimal(0)), None
    if all(p.hourly is None for _, _, p in parts):
        flat = sum((p.flat * factor for _, factor, p in parts if p.flat is not None), Decimal(0))
        return flat, None
    total = [Decimal(0)] * 24
    for key, factor, price in parts:
        hours = _hourly_of(key, price, day)
        if isinstance(hours, str):
            return hours
        total = [t + h * factor for t, h in zip(total, hours, strict=True)]
    return None, tuple(total)


def _versions(days: list[tuple[date, _Value]]) -> list[tuple[date, _Value]]:
    out: list[tuple[date, _Value]] = []
    for day, value in days:
        if not out or out[-1][1] != value:
            out.append((day, value))
    return out


def _price_versions(days: list[tuple[date, _Value]]) -> tuple[PriceVersion, ...]:
    return tuple(PriceVersion(d, f) for d, (f, _) in _versions(days) if f is not None)


def _problem_text(period: Period, problems: Mapping[tuple[str, str], list[date]]) -> str:
    parts = []
    for (role, reason), days in sorted(problems.items(), key=lambda kv: (kv[1][0], kv[0])):
        span = f"{days[0].isoformat()}" if len(days) == 1 else f"{len(days)} days from {days[0]}"
        parts.append(f"{role}: {reason} ({span})")
    return (
        f"charges missing for {period.start.isoformat()}..{period.end.isoformat()} "
        f"(end exclusive): " + "; ".join(parts)
    )


# --- supplier prices --------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractTerms:
    """A contract with the prices of the product version it pins (None: version unknown)."""

    contract_id: str
    product_id: str
    product_version: int
    start: date
    end: date | None
    price_type: str | None = None
    margin_dkk_per_kwh: Decimal | None = None
    fixed_price_dkk_per_kwh: Decimal | None = None
    subscription_dkk_per_month: Decimal | None = None


def supplier_versions(
    period: Period, contracts: Sequence[ContractTerms]
) -> tuple[tuple[PriceVersion, ...], tuple[PriceVersion, ...], tuple[PriceVersion, ...]]:
    """``(margin versions, subscription versions, fixed-price versions)`` over *period* from
    its contracts: the spot products' margins and the fixed-price products' prices, each
    from its contract's (clipped) start.

    Each contract's product version applies from its (clipped) start. Raises
    :class:`MissingCharges` for days without a contract or a contract whose product version
    has not arrived, :class:`ConflictingCharges` for overlapping contracts and
    :class:`UnsupportedProduct` for a price type without its price.
    """
    spans = []
    for c in contracts:
        start, end = max(c.start, period.start), min(c.end or period.end, period.end)
        if start < end:
            spans.append((start, end, c))
    spans.sort(key=lambda s: (s[0], s[1]))
    margin: list[PriceVersion] = []
    fixed: list[PriceVersion] = []
    subscription: list[PriceVersion] = []
    covered = period.start
    for start, end, c in spans:
        if start > covered:
            raise MissingCharges(
                f"supplier_margin: no contract for {covered.isoformat()}..{start.isoformat()} "
                "(end exclusive)"
            )
        if start < covered:
            raise ConflictingCharges(
                f"contract {c.contract_id} overlaps another contract from {start.isoformat()}"
            )
        if c.price_type is None or c.subscription_dkk_per_month is None:
            raise MissingCharges(
                f"supplier_margin: product {c.product_id} version {c.product_version} "
                f"(contract {c.contract_id}) not received from portfolio"
            )
        if c.price_type == "spot" and c.margin_dkk_per_kwh is not None:
            margin.append(PriceVersion(start, c.margin_dkk_per_kwh))
        elif c.price_type == "fixed" and c.fixed_price_dkk_per_kwh is not None:
            fixed.append(PriceVersion(start, c.fixed_price_dkk_per_kwh))
        else:
            raise UnsupportedProduct(
                f"contract {c.contract_id}: product {c.product_id} version {c.product_version} "
                f"is {c.price_type}-priced without its price"
            )
        subscription.append(PriceVersion(start, c.subscription_dkk_per_month))
        covered = end
    if covered < period.end:
        raise MissingCharges(
            f"supplier_margin: no contract for {covered.isoformat()}..{period.end.isoformat()} "
            "(end exclusive)"
        )
    return tuple(margin), tuple(subscription), tuple(fixed)
