"""A deterministic market of metering points, addresses and customers from a seed.

Metering points come out of one random stream per seed, address by address, so the first N
of a seed are always the same N: seeding 80,000 and later 100,000 adds exactly 20,000.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date as date_type

from wattline_contracts.portfolio_import import REQUIRED_COLUMNS
from wattline_platform.identifiers import gsrn_with_check_digit

from wattline_simulator.domain.market import GRID_AREA_WEIGHTS, OTHER_SUPPLIER_GLN, PRICE_AREA

MAX_SEED = 9_999
MAX_METERING_POINTS = 999_999_999
DAR_NAMESPACE = uuid.UUID("6f1c5b0e-2a47-5d1e-9c3b-7a0f4e2d8b61")


@dataclass(frozen=True)
class SeededPoint:
    """One seeded metering point (the columns of ``metering_point``)."""

    gsrn: str
    grid_area: str
    price_area: str
    metering_point_type: str
    settlement_method: str
    resolution: str
    profile: str
    annual_kwh: int
    supplier_gln: str
    dar_id: uuid.UUID
    customer_key: str
    blocked: bool
    seed_index: int


def gsrn_for(seed: int, index: int) -> str:
    """The GSRN of the *index*-th metering point of *seed*: ``5713`` + seed + index + check."""
    return gsrn_with_check_digit(f"5713{seed:04d}{index:09d}")


def dar_id_for(seed: int, address: int) -> uuid.UUID:
    """The (synthetic) DAR address id of the *address*-th address of *seed*."""
    return uuid.uuid5(DAR_NAMESPACE, f"{seed}/{address}")


def customer_id_for(dar_id: uuid.UUID | str, business: bool) -> tuple[str, str]:
    """``(scheme, id)`` of the synthetic customer registered at an address: a CVR (``VAT``, 8
    digits, valid mod-11 check) for a business, a CPR (``ARR``, 10 digits) otherwise.

    Both pass python-stdnum's ``dk.cvr``/``dk.cpr`` validation, as a real number would.
    """
    digest = hashlib.sha256(f"customer/{dar_id}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    if business:
        return "VAT", _cvr(1_000_000 + number % 9_000_000)
    # Born 1930-1999: a serial starting 0-3 puts the year in the 1900s whatever its two digits
    # (the CPR century rule), so the birth date is never in the future.
    day, month, year = 1 + number % 28, 1 + (number >> 8) % 12, 30 + (number >> 16) % 70
    serial = (number >> 24) % 4_000
    return "ARR", f"{day:02d}{month:02d}{year:02d}{serial:04d}"


_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


def _cvr(base: int) -> str:
    """The first valid CVR from the 7-digit *base* on: the 8th digit makes the weighted sum
    divisible by 11; a base that would need a check value of 10 has none and is skipped."""
    while True:
        digits = f"{base:07d}"
        check = -sum(w * int(d) for w, d in zip(_CVR_WEIGHTS, digits, strict=True)) % 11
        if check < 10:
            return f"{digits}{check}"
        base = base + 1 if base < 9_999_999 else 1_000_000


def customer_key(scheme: str, customer_id: str) -> str:
    """What the simulator stores instead of a CPR/CVR: its SHA-256 with the scheme."""
    return hashlib.sha256(f"{scheme}:{customer_id}".encode()).hexdigest()


def _grid_area(rng: random.Random) -> str:
    pick = rng.randrange(1000)
    for area, weight in GRID_AREA_WEIGHTS:
        if pick < weight:
            return area
        pick -= weight
    raise AssertionError("grid area weights must sum to 1000")


def seeded_points(
    seed: int,
    count: int,
    *,
    supplier_gln: str,
    pt15m_share: float = 0.1,
    ours_share: float = 1.0,
) -> Iterator[SeededPoint]:
    """The first *count* metering points of *seed*.

    Addresses hold one metering point (85 %), a consumption and a solar production point
    (10 %) or three (5 %: consumption, production and a second consumption point, e.g. a heat
    pump). About 6 % of addresses are businesses (of which half non-profiled, E02). About
    0.5 % of metering points are blocked for switching.
    """
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be 0..{MAX_SEED}")
    if not 0 <= count <= MAX_METERING_POINTS:
        raise ValueError(f"metering_points must be 0..{MAX_METERING_POINTS}")
    rng = random.Random(f"wattline-simulator/{seed}")  # synthetic data, not security
    index = address = 0
    while index < count:
        size_draw = rng.randrange(100)
        size = 1 if size_draw < 85 else 2 if size_draw < 95 else 3
        grid_area = _grid_area(rng)
        business = rng.randrange(100) < 6
        non_profiled = business and rng.randrange(2) == 0
        dar_id = dar_id_for(seed, address)
        scheme, customer = customer_id_for(dar_id, business)
        key = customer_key(scheme, customer)
        for member in range(size):
            solar = member == 1
            pt15m = rng.random() < pt15m_share
            ours = rng.random() < ours_share
            blocked = rng.randrange(1000) < 5
            if solar:
                profile, annual = "solar", rng.randint(3_000, 9_000)
            elif business:
                profile = "business"
                annual = (
                    rng.randint(40_000, 200_000) if non_profiled else rng.randint(8_000, 40_000)
                )
            else:
                profile, annual = "household", rng.randint(1_500, 6_500)
            if index < count:
                yield SeededPoint(
                    gsrn=gsrn_for(seed, index),
                    grid_area=grid_area,
                    price_area=PRICE_AREA[grid_area],
                    metering_point_type="E18" if solar else "E17",
                    settlement_method="E02" if non_profiled and not solar else "D01",
                    resolution="PT15M" if pt15m else "PT1H",
                    profile=profile,
                    annual_kwh=annual,
                    supplier_gln=supplier_gln if ours else OTHER_SUPPLIER_GLN,
                    dar_id=dar_id,
                    customer_key=key,
                    blocked=blocked,
                    seed_index=index,
                )
            index += 1
        address += 1


# --- what a newcomer needs: customers to sign up, and our own points as an import file -------

# A (made-up) billing address per price area for the synthetic customers.
_CITY = {"DK1": ("8000", "Aarhus C"), "DK2": ("2100", "København Ø")}


@dataclass(frozen=True)
class AddressPoint:
    """One metering point at an address, as the market table has it."""

    gsrn: str
    metering_point_type: str
    profile: str
    grid_area: str
    price_area: str
    settlement_method: str
    resolution: str
    supplier_gln: str | None
    blocked: bool


@dataclass(frozen=True)
class MarketCustomer:
    """The customer DataHub has registered at an address, with the numbers a signup needs."""

    dar_id: uuid.UUID
    contact_type: str  # "private" (CPR) or "business" (CVR), as a signup names it
    cpr_cvr: str
    name: str
    street: str
    house_number: str
    postcode: str
    city: str
    email: str
    points: tuple[AddressPoint, ...]

    @property
    def gsrn(self) -> str:
        """The consumption (E17) metering point to sign up (the first of the address)."""
        return next(p.gsrn for p in self.points if p.metering_point_type == "E17")

    @property
    def several_points(self) -> bool:
        """More than one metering point at the address: a signup must name ``gsrn``."""
        return len(self.points) > 1


def market_customer(dar_id: uuid.UUID, points: tuple[AddressPoint, ...]) -> MarketCustomer:
    """The synthetic customer at *dar_id* (the CPR/CVR DataHub expects for its points)."""
    business = any(p.profile == "business" for p in points)
    scheme, number = customer_id_for(dar_id, business)
    tag = dar_id.hex[:6]
    postcode, city = _CITY[points[0].price_area]
    return MarketCustomer(
        dar_id=dar_id,
        contact_type="business" if scheme == "VAT" else "private",
        cpr_cvr=number,
        name=f"Testkunde {tag}" + (" ApS" if business else ""),
        street="Simulatorvej",
        house_number=str(1 + int(tag, 16) % 999),
        postcode=postcode,
        city=city,
        email=f"kunde-{tag}@example.dk",
        points=points,
    )


# The columns of the portfolio's import file that our export fills (the street name and the
# house number apart, as DataHub has them).
IMPORT_COLUMNS = (*REQUIRED_COLUMNS, "house_number")


def import_rows(
    customers: list[MarketCustomer], supplier_gln: str, supply_start: date_type, product: str
) -> list[dict[str, str]]:
    """Our supplier's points of *customers* as rows of a portfolio import (a CIS export)."""
    rows: list[dict[str, str]] = []
    for c in customers:
        for p in c.points:
            if p.supplier_gln != supplier_gln:
                continue
            rows.append(
                {
                    "external_id": f"SIM-{p.gsrn}",
                    "gsrn": p.gsrn,
                    "grid_area": p.grid_area,
                    "price_area": p.price_area,
                    "metering_point_type": p.metering_point_type,
                    "settlement_method": p.settlement_method,
                    "resolution": p.resolution,
                    "supply_start": supply_start.isoformat(),
                    "customer_type": c.contact_type,
                    "cpr_cvr": c.cpr_cvr,
                    "name": c.name,
                    "email": c.email,
                    "street": c.street,
                    "house_number": c.house_number,
                    "postcode": c.postcode,
                    "city": c.city,
                    "dar_id": str(c.dar_id),
                    "product": product,
                }
            )
    return rows
