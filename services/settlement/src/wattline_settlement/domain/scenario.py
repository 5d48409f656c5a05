"""The scenario JSON (spec §4) in, the result JSON (spec §6) out.

Specification: ``shared/reference/settlement/README.md``. :func:`parse_scenario` checks every
rule of §7 and materialises each series (profile, then points, one value per interval of the
period); every violation is a :class:`BadScenario` with a one-line message that names the
place (``consumption.points[3].start: ...``). Pure: no file or network access.

One extension of §4.2 (issue 14): a fixed-price product gives ``charges.fixed_price``
(versions of ``{"valid_from", "dkk_per_kwh"}``) instead of ``supplier_margin``; its energy is
one line ``fixed_price_energy`` (Σ import * the price in force on the interval's local date,
rounded once) in place of ``spot_energy`` and ``supplier_margin``, everything else unchanged.
Both lists are versions of one energy price (on a local date the greatest ``valid_from`` of
either applies; two on one date are bad input): a change between a spot and a fixed-price
product inside the period gives all three lines, each on its own days' import. ``spot`` is
needed for spot-priced days and with ``production`` (an export earns the spot price).
And one of §5.7: ``elvarme.from_date`` (optional), the local date a registration applies
from; intervals before it pay the normal tax and are not counted, and
``consumed_kwh_before_period`` is the counter on that date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NoReturn

from wattline_settlement.domain.engine import (
    EXACT,
    STEPS,
    BadScenario,
    check_period,
    check_scenario,
    format_instant,
    interval_count,
    local_midnight_utc,
)
from wattline_settlement.domain.model import (
    Aconto,
    Charges,
    Document,
    Elvarme,
    Kind,
    Line,
    Period,
    PriceVersion,
    Resolution,
    Result,
    Scenario,
    Series,
    TariffVersion,
)

__all__ = ["BadScenario", "parse_scenario", "result_to_json", "scenario_from_json"]

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_INSTANT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?Z")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")

KWH_PLACES = 3
PRICE_PLACES = 6
MONEY_PLACES = 2
RATE_PLACES = 6

_TOP_REQUIRED = ("period", "vat_rate", "consumption", "charges")
_TOP_OPTIONAL = (
    "spot",  # required unless the product has a fixed price (and no production)
    "kind",
    "production",
    "elvarme",
    "aconto",
    "corrected_consumption",
    "invoice_periods",
)
_PER_KWH = ("system_tariff", "transmission_tariff", "electricity_tax")
_MONTHLY = ("grid_subscription", "supplier_subscription")
# At least one: a spot product's margin over spot, a fixed-price product's energy price.
_ENERGY = ("supplier_margin", "fixed_price")
_CHARGES = (
    "grid_tariff",
    "system_tariff",
    "transmission_tariff",
    "electricity_tax",
    "grid_subscription",
    "supplier_subscription",
)


def _bad(message: str) -> NoReturn:
    raise BadScenario(message)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _quote(value: Any) -> str:
    """A value as JSON, shortened: messages stay one (short) line whatever the input."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _object(
    value: Any, where: str, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        _bad(f"{where}: expected an object, got {_json_type(value)}")
    for key in value:
        if key not in required and key not in optional:
            _bad(f"{where}: unknown key {_quote(key)}")
    for key in required:
        if key not in value:
            _bad(f"{where}: missing key {_quote(key)}")
    return value


def _list(value: Any, where: str, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        _bad(f"{where}: expected an array, got {_json_type(value)}")
    if non_empty and not value:
        _bad(f"{where}: empty; give at least one version")
    return value


def _decimal(value: Any, where: str, places: int, negative: bool) -> Decimal:
    """A decimal written as a JSON string with at most *places* decimals (spec §3)."""
    if not isinstance(value, str):
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            _bad(f'{where}: {value} is a JSON number; write decimals as strings, e.g. "0.300"')
        _bad(f"{where}: expected a decimal string, got {_json_type(value)}")
    match = _DECIMAL.fullmatch(value)
    if match is None:
        _bad(f"{where}: {_quote(value)} is not a decimal")
    if match.group(1) is not None and len(match.group(1)) > places:
        _bad(f"{where}: {value} has more than {places} decimals")
    number = Decimal(value)
    if number < 0 and not negative:
        _bad(f"{where}: {value} is negative")
    return abs(number) if number.is_zero() else number  # "-0.000" is zero


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str):
        _bad(f"{where}: expected a date string YYYY-MM-DD, got {_json_type(value)}")
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        _bad(f"{where}: {_quote(value)} is not a date YYYY-MM-DD")


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        _bad(f"{where}: expected a timestamp string YYYY-MM-DDTHH:MMZ, got {_json_type(value)}")
    match = _INSTANT.fullmatch(value)
    try:
        if match is None or match.group(4) not in (None, "00"):
            raise ValueError
        day = _DATE.fullmatch(match.group(1))
        assert day is not None
        return datetime(
            int(day.group(1)),
            int(day.group(2)),
            int(day.group(3)),
            int(match.group(2)),
            int(match.group(3)),
            tzinfo=UTC,
        )
    except ValueError:
        _bad(f"{where}: {_quote(value)} is not a timestamp YYYY-MM-DDTHH:MMZ")


def _period(value: Any, where: str) -> Period:
    obj = _object(value, where, ("start", "end"))
    period = Period(_date(obj["start"], f"{where}.start"), _date(obj["end"], f"{where}.end"))
    check_period(period, where)
    return period


def _profile(value: Any, where: str, length: int, places: int, negative: bool) -> list[Decimal]:
    values = _list(value, where)
    if len(values) != length:
        _bad(f"{where}: {len(values)} values, need {length}")
    return [_decimal(v, f"{where}[{k}]", places, negative) for k, v in enumerate(values)]


def _series(
    value: Any, where: str, value_key: str, places: int, negative: bool, period: Period
) -> Series:
    """A series (spec §4.1) materialised over *period*: profile, overridden by points."""
    obj = _object(
        value,
        where,
        ("resolution",),
        ("profile_utc_hourly", "profile_utc_quarter_hourly", "points"),
    )
    given = obj["resolution"]
    if given not in ("PT1H", "PT15M"):
        _bad(f"{where}.resolution: unknown resolution {_quote(given)} (PT1H or PT15M)")
    resolution: Resolution = "PT1H" if given == "PT1H" else "PT15M"
    hourly, quarterly = obj.get("profile_utc_hourly"), obj.get("profile_utc_quarter_hourly")
    if hourly is not None and quarterly is not None:
        _bad(f"{where}: both profile_utc_hourly and profile_utc_quarter_hourly; give one")
    if quarterly is not None and resolution != "PT15M":
        _bad(f"{where}.profile_utc_quarter_hourly: only for a PT15M series")
    if hourly is None and quarterly is None and "points" not in obj:
        _bad(f"{where}: neither a profile nor points")
    hourly_values = (
        None
        if hourly is None
        else _profile(hourly, f"{where}.profile_utc_hourly", 24, places, negative)
    )
    quarter_values = (
        None
        if quarterly is None
        else _profile(quarterly, f"{where}.profile_utc_quarter_hourly", 96, places, negative)
    )

    step = STEPS[resolution]
    alignment = 60 if resolution == "PT1H" else 15
    points: dict[datetime, Decimal] = {}
    for k, item in enumerate(_list(obj.get("points", []), f"{where}.points")):
        at = f"{where}.points[{k}]"
        point = _object(item, at, ("start", value_key))
        start = _instant(point["start"], f"{at}.start")
        if start.minute % alignment:
            _bad(f"{at}.start: {format_instant(start)} is not aligned to {resolution}")
        if start in points:
            _bad(f"{at}: a second value for interval {format_instant(start)}")
        points[start] = _decimal(point[value_key], f"{at}.{value_key}", places, negative)

    first = local_midnight_utc(period.start)
    values: list[Decimal] = []
    for i in range(interval_count(period, resolution)):
        instant = first + i * step
        found = points.get(instant)
        if found is None and hourly_values is not None:
            found = hourly_values[instant.hour]
        if found is None and quarter_values is not None:
            found = quarter_values[4 * instant.hour + instant.minute // 15]
        if found is None:
            _bad(f"{where}: interval {format_instant(instant)} has no value")
        values.append(found)
    # Points outside the period were checked above and are otherwise ignored (spec §4.1).
    return Series(resolution, first, tuple(values))


def _price_versions(
    value: Any, where: str, value_key: str, places: int
) -> tuple[PriceVersion, ...]:
    versions = []
    for k, item in enumerate(_list(value, where, non_empty=True)):
        at = f"{where}[{k}]"
        obj = _object(item, at, ("valid_from", value_key))
        versions.append(
            PriceVersion(
                _date(obj["valid_from"], f"{at}.valid_from"),
                _decimal(obj[value_key], f"{at}.{value_key}", places, negative=True),
            )
        )
    return tuple(versions)


def _grid_tariff(value: Any, where: str) -> tuple[TariffVersion, ...]:
    versions = []
    for k, item in enumerate(_list(value, where, non_empty=True)):
        at = f"{where}[{k}]"
        obj = _object(item, at, ("valid_from",), ("hourly_dkk_per_kwh", "dkk_per_kwh"))
        valid_from = _date(obj["valid_from"], f"{at}.valid_from")
        if ("hourly_dkk_per_kwh" in obj) == ("dkk_per_kwh" in obj):
            _bad(f"{at}: give exactly one of hourly_dkk_per_kwh and dkk_per_kwh")
        if "dkk_per_kwh" in obj:
            flat = _decimal(obj["dkk_per_kwh"], f"{at}.dkk_per_kwh", PRICE_PLACES, negative=True)
            versions.append(TariffVersion(valid_from, flat=flat))
        else:
            hourly = _list(obj["hourly_dkk_per_kwh"], f"{at}.hourly_dkk_per_kwh")
            if len(hourly) != 24:
                _bad(f"{at}.hourly_dkk_per_kwh: {len(hourly)} positions, need 24")
            positions = tuple(
                _decimal(v, f"{at}.hourly_dkk_per_kwh[{p}]", PRICE_PLACES, negative=True)
                for p, v in enumerate(hourly)
            )
            versions.append(TariffVersion(valid_from, hourly=positions))
    return tuple(versions)


def _charges(value: Any) -> Charges:
    obj = _object(value, "charges", _CHARGES, _ENERGY)
    if "supplier_margin" not in obj and "fixed_price" not in obj:
        _bad(
            "charges: give supplier_margin (a spot product), fixed_price (a fixed-price "
            "product) or both (a product change between them)"
        )
    energy = {
        name: _price_versions(obj[name], f"charges.{name}", "dkk_per_kwh", PRICE_PLACES)
        for name in _ENERGY
        if name in obj
    }
    per_kwh = {
        name: _price_versions(obj[name], f"charges.{name}", "dkk_per_kwh", PRICE_PLACES)
        for name in _PER_KWH
    }
    monthly = {
        name: _price_versions(obj[name], f"charges.{name}", "dkk_per_month", MONEY_PLACES)
        for name in _MONTHLY
    }
    return Charges(
        supplier_margin=energy.get("supplier_margin", ()),
        grid_tariff=_grid_tariff(obj["grid_tariff"], "charges.grid_tariff"),
        system_tariff=per_kwh["system_tariff"],
        transmission_tariff=per_kwh["transmission_tariff"],
        electricity_tax=per_kwh["electricity_tax"],
        grid_subscription=monthly["grid_subscription"],
        supplier_subscription=monthly["supplier_subscription"],
        fixed_price=energy.get("fixed_price", ()),
    )


def _elvarme(value: Any) -> Elvarme:
    obj = _object(
        value,
        "elvarme",
        ("consumed_kwh_before_period", "reduced_electricity_tax"),
        ("threshold_kwh", "from_date"),
    )
    return Elvarme(
        threshold_kwh=_decimal(
            obj.get("threshold_kwh", "4000"), "elvarme.threshold_kwh", KWH_PLACES, negative=False
        ),
        consumed_kwh_before_period=_decimal(
            obj["consumed_kwh_before_period"],
            "elvarme.consumed_kwh_before_period",
            KWH_PLACES,
            negative=False,
        ),
        reduced_electricity_tax=_price_versions(
            obj["reduced_electricity_tax"],
            "elvarme.reduced_electricity_tax",
            "dkk_per_kwh",
            PRICE_PLACES,
        ),
        from_date=_date(obj["from_date"], "elvarme.from_date") if "from_date" in obj else None,
    )


def _aconto(value: Any) -> Aconto:
    obj = _object(value, "aconto", ("paid",), ("next_prepayment",))
    return Aconto(
        paid=_decimal(obj["paid"], "aconto.paid", MONEY_PLACES, negative=True),
        next_prepayment=_decimal(
            obj.get("next_prepayment", "0.00"),
            "aconto.next_prepayment",
            MONEY_PLACES,
            negative=True,
        ),
    )


def parse_scenario(obj: Any) -> Scenario:
    """The scenario JSON (already decoded: dicts, lists, strings) as a :class:`Scenario`.

    Checks every rule of spec §7 and raises :class:`BadScenario` with a one-line message on
    the first one broken. Series are materialised over the period: a profile gives every
    interval its value, points override it, points outside the period are checked and
    ignored; an interval left without a value is bad input.
    """
    top = _object(obj, "scenario", _TOP_REQUIRED, _TOP_OPTIONAL)
    kind = top.get("kind", "settlement")
    if kind not in ("settlement", "correction", "erroneous_switch"):
        _bad(f"kind: unknown kind {_quote(kind)} (settlement, correction or erroneous_switch)")
    if "aconto" in top and kind != "settlement":
        _bad(f"aconto: only with kind settlement, not {kind}")
    if "corrected_consumption" in top and kind != "correction":
        _bad(f"corrected_consumption: only with kind correction, not {kind}")
    if kind == "correction" and "corrected_consumption" not in top:
        _bad('scenario: missing key "corrected_consumption" (required with kind correction)')
    if "invoice_periods" in top and kind != "erroneous_switch":
        _bad(f"invoice_periods: only with kind erroneous_switch, not {kind}")
    checked_kind: Kind = kind

    period = _period(top["period"], "period")
    vat_rate = _decimal(top["vat_rate"], "vat_rate", RATE_PLACES, negative=False)

    def kwh_series(name: str) -> Series | None:
        if name not in top:
            return None
        return _series(top[name], name, "kwh", KWH_PLACES, False, period)

    consumption = kwh_series("consumption")
    assert consumption is not None  # required key
    production = kwh_series("production")
    charges = _charges(top["charges"])
    spot = None
    if "spot" in top:
        spot = _series(top["spot"], "spot", "dkk_per_kwh", PRICE_PLACES, True, period)
    elif not charges.fixed_price:
        _bad('scenario: missing key "spot" (required unless charges has a fixed_price)')
    invoice_periods = None
    if "invoice_periods" in top:
        invoice_periods = tuple(
            _period(part, f"invoice_periods[{k}]")
            for k, part in enumerate(_list(top["invoice_periods"], "invoice_periods"))
        )
    scenario = Scenario(
        period=period,
        vat_rate=vat_rate,
        consumption=consumption,
        spot=spot,
        charges=charges,
        kind=checked_kind,
        production=production,
        elvarme=_elvarme(top["elvarme"]) if "elvarme" in top else None,
        aconto=_aconto(top["aconto"]) if "aconto" in top else None,
        corrected_consumption=kwh_series("corrected_consumption"),
        invoice_periods=invoice_periods,
    )
    check_scenario(scenario)  # versions per local date, resolutions, invoice periods
    return scenario


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            _bad(f"invalid JSON: key {_quote(key)} given twice in one object")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> NoReturn:
    _bad(f"invalid JSON: {name} is not a JSON value")


def scenario_from_json(text: str | bytes) -> Scenario:
    """Decode scenario JSON text and :func:`parse_scenario` it; text that is not JSON (or
    repeats a key within an object) is a :class:`BadScenario` too."""
    try:
        obj = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_float=Decimal,
            parse_constant=_reject_constant,
        )
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadScenario(f"invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadScenario("invalid JSON: nested too deeply") from exc
    return parse_scenario(obj)


# --- result JSON -------------------------------------------------------------------------------


def _fixed(value: Decimal, places: int) -> str:
    # EXACT traps Inexact: a figure with more decimals than its format is a bug, not rounded.
    fixed = value.quantize(Decimal(1).scaleb(-places), context=EXACT)
    return f"{abs(fixed) if fixed.is_zero() else fixed:f}"


def _money(value: Decimal) -> str:
    return _fixed(value, MONEY_PLACES)


def _kwh(value: Decimal) -> str:
    return _fixed(value, KWH_PLACES)


def _period_json(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _lines_json(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [
        {
            "code": line.code,
            "quantity_kwh": None if line.quantity_kwh is None else _kwh(line.quantity_kwh),
            "days": line.days,
            "amount": _money(line.amount),
        }
        for line in lines
    ]


def _document_json(doc: Document) -> dict[str, Any]:
    return {
        "period": _period_json(doc.period),
        "consumption_kwh": _kwh(doc.consumption_kwh),
        "lines": _lines_json(doc.lines),
        "subtotal": _money(doc.subtotal),
        "vat": _money(doc.vat),
        "total": _money(doc.total),
    }


def result_to_json(result: Result) -> dict[str, Any]:
    """The result JSON of spec §6: money as strings with exactly 2 decimals (never
    ``"-0.00"``), kWh with exactly 3, keys in the specification's order, ``aconto`` and
    ``documents`` only when present."""
    out: dict[str, Any] = {
        "kind": result.kind,
        "period": _period_json(result.period),
        "consumption_kwh": _kwh(result.consumption_kwh),
        "lines": _lines_json(result.lines),
        "subtotal": _money(result.subtotal),
        "vat": _money(result.vat),
        "total": _money(result.total),
    }
    if result.aconto is not None:
        out["aconto"] = {
            "paid": _money(result.aconto.paid),
            "difference": _money(result.aconto.difference),
            "next_prepayment": _money(result.aconto.next_prepayment),
            "amount_due": _money(result.aconto.amount_due),
        }
    if result.documents is not None:
        out["documents"] = [_document_json(doc) for doc in result.documents]
    return out
