"""One row of a portfolio import, checked: the rules, with every problem of a row named.

A row is a metering point we already supply (DataHub has us as its supplier), its customer,
an optional separate payer and the contract's product. The checks are the signup's own: the
GSRN's check digit and the grid area (``MeteringPoint``), the CPR/CVR number (``Person``), the
e-mail and postcode patterns, and the product a new contract may sign (``version_to_sign``).
The column reference is in ``wattline_portfolio.portfolio_import``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast, get_args

from wattline_contracts.portfolio_import import PAYER_COLUMNS
from wattline_platform.business_days import (
    FIRST_SUPPORTED_DATE,
    LAST_SUPPORTED_DATE,
    is_supported_date,
)
from wattline_platform.grid_areas import price_area

from wattline_portfolio.domain.identity import (
    EMAIL_PATTERN,
    POSTAL_CODE_PATTERN,
    ContactType,
    InvalidIdentity,
    Person,
    PostalAddress,
)
from wattline_portfolio.domain.metering_point import (
    InvalidMeteringPoint,
    MeteringPoint,
    MeteringPointType,
    Resolution,
    SettlementMethod,
)
from wattline_portfolio.domain.products import Product, ProductVersion, version_to_sign

BillingFrequency = Literal["monthly", "quarterly"]
PaymentModel = Literal["aconto", "arrears"]

# A separate payer needs these; the others are optional.
_PAYER_REQUIRED = (
    "payer_type",
    "payer_cpr_cvr",
    "payer_name",
    "payer_street",
    "payer_postcode",
    "payer_city",
)
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")


def is_external_id(value: str | None) -> bool:
    """True when *value* has the shape of an external id (what a report may repeat)."""
    return value is not None and bool(_EXTERNAL_ID.match(value))


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(EMAIL_PATTERN)
_POSTCODE = re.compile(POSTAL_CODE_PATTERN)
# "Nørrebrogade 42B, 3. th" -> street, house number, floor, door (Danish postal style).
_STREET = re.compile(
    r"^(?P<street>.*?[^\d\s,])\s+(?P<number>\d+\s?[A-Za-z]?)"
    r"(?:\s*,\s*(?P<floor>st|kl|\d{1,2})\.?(?:\s*,?\s*(?P<door>[A-Za-z0-9-]{1,10})\.?)?)?$",
    re.IGNORECASE,
)
_LENGTHS = {"name": 200, "street": 200, "city": 100, "phone": 20, "email": 254}


@dataclass(frozen=True)
class Defaults:
    """What a row without ``billing_frequency`` or ``payment_model`` gets."""

    billing_frequency: BillingFrequency
    payment_model: PaymentModel


@dataclass(frozen=True)
class ImportRow:
    """A row that passed every check: what the import stores for it."""

    line: int
    external_id: str
    metering_point: MeteringPoint
    supply_start: date
    customer: Person
    payer: Person | None
    payer_external_id: str | None
    dar_id: uuid.UUID | None
    product: Product
    version: ProductVersion
    billing_frequency: BillingFrequency
    payment_model: PaymentModel


@dataclass(frozen=True)
class RowRejected:
    """A row that is not imported, and every reason why (never the personal data itself)."""

    line: int
    external_id: str | None
    reasons: tuple[str, ...]


class Catalogue:
    """The products a row may name: by product id or, ignoring case, by name."""

    def __init__(self, products: Iterable[Product]) -> None:
        self._by_key: dict[str, Product] = {}
        for product in products:
            self._by_key[product.product_id.lower()] = product
            self._by_key.setdefault(product.name.casefold(), product)

    def find(self, key: str) -> Product | None:
        return self._by_key.get(key.strip().lower()) or self._by_key.get(key.strip().casefold())


def split_street(line: str) -> tuple[str, str, str | None, str | None]:
    """(street, house number, floor, door) of a one-line Danish street address; a line that
    does not parse stays whole in the street, with no house number."""
    match = _STREET.match(line.strip())
    if match is None:
        return line.strip(), "", None, None
    number = match["number"].replace(" ", "")
    return match["street"].strip(), number, match["floor"], match["door"]


def parse_row(
    line: int, values: Mapping[str, str], catalogue: Catalogue, defaults: Defaults
) -> ImportRow | RowRejected:
    """Check one row (column -> text, already stripped). Returns the row, or every reason it
    is refused."""
    reasons: list[str] = []
    get = values.get

    def need(column: str) -> str:
        value = get(column, "")
        if not value:
            reasons.append(f"{column} is empty")
        elif len(value) > _LENGTHS.get(column, 100):
            reasons.append(f"{column} is longer than {_LENGTHS.get(column, 100)} characters")
        return value

    def choice(column: str, allowed: tuple[str, ...], *, optional: bool = False) -> str:
        value = get(column, "")
        if not value and optional:
            return ""
        if value not in allowed:
            reasons.append(f"{column} must be one of {', '.join(allowed)}")
        return value

    external_id = get("external_id", "") or None
    if external_id is None:
        reasons.append("external_id is empty")
    elif not _EXTERNAL_ID.match(external_id):
        reasons.append("external_id: 1-100 letters, digits and . _ : / - only")

    before = len(reasons)
    gsrn = need("gsrn")
    mp_type = choice("metering_point_type", ("E17", "E18"))
    method = choice("settlement_method", get_args(SettlementMethod), optional=mp_type == "E18")
    resolution = choice("resolution", get_args(Resolution))
    area = choice("price_area", ("DK1", "DK2"))
    grid_area = need("grid_area")
    known_area = price_area(grid_area) if grid_area else None
    if known_area is not None and area in ("DK1", "DK2") and known_area != area:
        reasons.append(f"price_area {area} but grid area {grid_area} lies in {known_area}")
    metering_point: MeteringPoint | None = None
    if len(reasons) == before:  # the rules of the metering point itself: GSRN, grid area
        try:
            metering_point = MeteringPoint(
                gsrn=gsrn,
                grid_area=grid_area,
                price_area=cast("Literal['DK1', 'DK2']", area),
                metering_point_type=cast(MeteringPointType, mp_type),
                settlement_method=cast(SettlementMethod, method) if method else None,
                resolution=cast(Resolution, resolution),
            )
        except InvalidMeteringPoint as exc:
            reasons.append(str(exc))

    supply_start: date | None = None
    start_text = need("supply_start")
    if start_text:
        try:
            if not _DATE.match(start_text):
                raise ValueError(start_text)
            supply_start = date.fromisoformat(start_text)
        except ValueError:
            reasons.append("supply_start must be a date YYYY-MM-DD")
        if supply_start is not None and not is_supported_date(supply_start):
            reasons.append(
                f"supply_start must be from {FIRST_SUPPORTED_DATE} to {LAST_SUPPORTED_DATE}"
            )
            supply_start = None

    customer = _person(values, "", reasons)
    payer: Person | None = None
    payer_given = [c for c in PAYER_COLUMNS if get(c)]
    if payer_given:
        missing = [c for c in _PAYER_REQUIRED if not get(c)]
        if missing:
            reasons.append(f"a separate payer needs {', '.join(missing)}")
        else:
            payer = _person(values, "payer_", reasons)

    dar_id: uuid.UUID | None = None
    if get("dar_id"):
        try:
            dar_id = uuid.UUID(get("dar_id", ""))
        except ValueError:
            reasons.append("dar_id must be a UUID (or empty)")

    product: Product | None = None
    version: ProductVersion | None = None
    product_key = need("product")
    if product_key:
        product = catalogue.find(product_key)
        if product is None:
            reasons.append("product is not in the catalogue (its id or name)")
        elif supply_start is not None:
            version = version_to_sign(product, supply_start)
            if version is None:
                reasons.append(
                    f"product {product.name!r} is withdrawn or has no price on "
                    f"{supply_start.isoformat()}"
                )

    frequency = choice("billing_frequency", get_args(BillingFrequency), optional=True)
    payment = choice("payment_model", get_args(PaymentModel), optional=True)

    if reasons:
        return RowRejected(line, external_id, tuple(reasons))
    assert external_id and metering_point and supply_start and customer
    assert product is not None and version is not None
    return ImportRow(
        line=line,
        external_id=external_id,
        metering_point=metering_point,
        supply_start=supply_start,
        customer=customer,
        payer=payer,
        payer_external_id=get("payer_external_id") or None,
        dar_id=dar_id,
        product=product,
        version=version,
        billing_frequency=cast(BillingFrequency, frequency) or defaults.billing_frequency,
        payment_model=cast(PaymentModel, payment) or defaults.payment_model,
    )


def _person(values: Mapping[str, str], prefix: str, reasons: list[str]) -> Person | None:
    """The customer (prefix "") or the payer ("payer_"); problems go to *reasons*, naming the
    column, never the value."""
    get = values.get
    before = len(reasons)
    type_column = "payer_type" if prefix else "customer_type"
    contact_type = get(type_column, "")
    if contact_type not in ("private", "business"):
        reasons.append(f"{type_column} must be private or business")
    for column in ("cpr_cvr", "name", "street", "city"):
        value = get(prefix + column, "")
        if not value:
            reasons.append(f"{prefix}{column} is empty")
        elif len(value) > _LENGTHS.get(column, 20):
            reasons.append(f"{prefix}{column} is too long")
    if not _POSTCODE.match(get(prefix + "postcode", "")):
        reasons.append(f"{prefix}postcode must be 4 digits")
    email = get(prefix + "email") or None
    if email is not None and (len(email) > _LENGTHS["email"] or not _EMAIL.match(email)):
        reasons.append(f"{prefix}email is not an e-mail address")
    phone = None if prefix else (get("phone") or None)
    if phone is not None and len(phone) > _LENGTHS["phone"]:
        reasons.append("phone is too long")
    if get(prefix + "house_number"):  # the street is the street name alone
        street, number = get(prefix + "street", ""), get(prefix + "house_number", "")
        floor, door = (None, None) if prefix else (get("floor") or None, get("door") or None)
    else:
        street, number, floor, door = split_street(get(prefix + "street", ""))
    if len(reasons) > before:
        return None
    try:
        return Person.checked(
            name=get(prefix + "name", ""),
            cpr_cvr=get(prefix + "cpr_cvr", ""),
            contact_type=cast(ContactType, contact_type),
            address=PostalAddress(
                street, number, get(prefix + "postcode", ""), get(prefix + "city", ""), floor, door
            ),
            email=email,
            phone=phone,
        )
    except InvalidIdentity as exc:
        reasons.append(f"{prefix}cpr_cvr: {exc}")
        return None
