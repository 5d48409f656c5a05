"""A run renders a price group's settlements at once (integer figures, JSON templates), and
each row is exactly what the models make one by one: the settlement.completed payload byte for
byte, the stored lines, the totals. The integer roundings behind it equal the Decimal ones."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from wattline_contracts.settlement import SettlementCompletedV1
from wattline_settlement.adapters import json_rows
from wattline_settlement.domain import bulk as bulk_module
from wattline_settlement.domain.billing import Item
from wattline_settlement.domain.bulk import BulkSettlement, settle_many
from wattline_settlement.domain.charge_rules import (
    ChargeInfo,
    ChargeKey,
    ChargeLinkSpan,
    ChargePrice,
    combine_charges,
)
from wattline_settlement.domain.engine import (
    CHARGE_PLACES,
    interval_count,
    local_midnight_utc,
    round_places,
)
from wattline_settlement.domain.model import Line, Period, PriceVersion, Series, unit_price
from wattline_settlement.handlers import runs
from wattline_settlement.handlers.inputs import BulkGroup, Inputs, ProductSpan

D = Decimal
GRID = "5799994100344"
ENERGINET = "5790000432752"
JANUARY = Period(date(2025, 1, 1), date(2025, 2, 1))
RUN = uuid.UUID("00000000-0000-4000-8000-000000000042")


def _charges() -> Any:
    """Two grid tariffs (one hourly, one from the 11th with factor 2), Energinet's tariffs and
    tax, a grid subscription and a fee in two pieces: per-kWh parts, a shared part, a fee."""
    keys = {
        "time": ChargeKey(GRID, "D03", "NT-C-TIME"),
        "extra": ChargeKey(GRID, "D03", "NT-EXTRA"),
        "sub": ChargeKey(GRID, "D01", "NT-ABON"),
        "trans": ChargeKey(ENERGINET, "D03", "40000"),
        "sys": ChargeKey(ENERGINET, "D03", "41000"),
        "tax": ChargeKey(ENERGINET, "D03", "EA-001"),
        "fee": ChargeKey(GRID, "D02", "GEBYR"),
    }
    start = JANUARY.start
    links = [ChargeLinkSpan(k, start, None, 1) for k in keys.values()]
    links[1] = ChargeLinkSpan(keys["extra"], date(2025, 1, 11), None, 2)
    links[6] = ChargeLinkSpan(keys["fee"], date(2025, 1, 20), None, 2)
    hourly = tuple(D("0.130217") if h < 6 else D("0.390613") for h in range(24))
    prices = {
        keys["time"]: [ChargePrice(start, hourly=hourly)],
        keys["extra"]: [ChargePrice(start, flat=D("0.010001"))],
        keys["sub"]: [ChargePrice(start, flat=D("21.25"))],
        keys["trans"]: [ChargePrice(start, flat=D("0.074"))],
        keys["sys"]: [ChargePrice(start, flat=D("0.051003"))],
        keys["tax"]: [ChargePrice(start, flat=D("0.720"))],
        keys["fee"]: [ChargePrice(start, flat=D("45.50"))],
    }
    infos = {k: ChargeInfo(k, tax_indicator=k == keys["tax"]) for k in keys.values()}
    return combine_charges(
        JANUARY,
        links,
        infos,
        prices,
        (PriceVersion(start, D("0.05")),),
        (PriceVersion(start, D("39.00")),),
    )


def _group(bulk: BulkSettlement) -> BulkGroup:
    rows = len(bulk)
    items = [
        Item(
            f"57131310000000{k:04d}",
            str(uuid.uuid5(RUN, f"customer {k}")),
            str(uuid.uuid5(RUN, f"supply period {k}")),
            JANUARY,
        )
        for k in range(rows)
    ]
    used = (ProductSpan("5f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8", 3, JANUARY.start, JANUARY.end),)
    inputs = Inputs("344", "DK1", "PT1H", 0, used)
    return BulkGroup(items, [1000 + k for k in range(rows)], inputs, bulk)


def _assert_rendered_as_one_by_one(bulk: BulkSettlement) -> None:
    group = _group(bulk)
    rendered = runs._group_rows(RUN, "2025-01", group, D("0.25"))
    by_id = {row["supply_period_id"]: row for row in rendered}
    assert len(by_id) == len(bulk)
    for k, item in enumerate(group.items):
        expected = runs._result_row(
            RUN, "2025-01", item, group.inputs_of(k), bulk.result(k), D("0.25")
        )
        row = by_id[uuid.UUID(item.supply_period_id)]
        assert row == expected  # the payload and the stored lines as text, every column
        event = SettlementCompletedV1.model_validate_json(row["_payload"])  # the contract
        assert event.total == bulk.result(k).total and event.gsrn == item.gsrn


def _spot(n: int, negative: bool = False) -> Series:
    values = tuple(
        D((i * 7919) % 900_001 - (450_000 if negative else 0)).scaleb(-6) for i in range(n)
    )
    return Series("PT1H", local_midnight_utc(JANUARY.start), values)


def test_a_group_with_charge_parts_renders_each_row_as_the_models_do() -> None:
    n = interval_count(JANUARY, "PT1H")
    rng = np.random.default_rng(17)
    wh = rng.integers(0, 2_500, size=(12, n), dtype=np.int64)
    wh[3] = 0  # nothing consumed: unit prices are null
    wh[5, 100] = 2**52  # beyond the integer path: settled (and rendered) the Decimal way
    bulk = settle_many(
        wh, period=JANUARY, resolution="PT1H", spot=_spot(n), charges=_charges(), vat_rate=D("0.25")
    )
    assert bulk.decimal_rows == (5,)
    figures = bulk.figures()
    assert 5 not in figures.rows.tolist() and len(figures.rows) == 11
    assert len(figures.per_kwh_charges) == 5  # two grid tariffs, two tariffs, the tax
    _assert_rendered_as_one_by_one(bulk)
    first = SettlementCompletedV1.model_validate_json(
        runs._group_rows(RUN, "2025-01", _group(bulk), D("0.25"))[1]["_payload"]
    )
    tariff = next(line for line in first.lines if line.code == "grid_tariff")
    assert [c.charge_id for c in tariff.charges] == ["NT-C-TIME", "NT-EXTRA"]
    assert [line.unit_price for line in first.lines if line.code == "grid_fee"] == [None]


def test_negative_amounts_render_as_decimal_writes_them() -> None:
    """Negative spot prices (a negative spot line) and a solar export (a negative line),
    down to a unit price that rounds to -0.000000."""
    n = interval_count(JANUARY, "PT1H")
    rng = np.random.default_rng(3)
    wh = rng.integers(0, 3_000, size=(6, n), dtype=np.int64)
    production = rng.integers(0, 3_000, size=(6, n), dtype=np.int64)
    # 22,320 kWh, half of them at -0.000001: -0.01 in all, a unit price of "-0.000000".
    wh[2] = 30_000
    production[2] = 0
    tiny = Series(
        "PT1H", local_midnight_utc(JANUARY.start), tuple(D(-(i % 2)).scaleb(-6) for i in range(n))
    )
    for spot in (_spot(n, negative=True), tiny):
        bulk = settle_many(
            wh,
            period=JANUARY,
            resolution="PT1H",
            spot=spot,
            charges=_charges(),
            vat_rate=D("0.25"),
            production_wh=production,
        )
        _assert_rendered_as_one_by_one(bulk)
    spot_line = bulk.result(2).lines[0]
    assert (spot_line.code, spot_line.amount) == ("spot_energy", D("-0.01"))
    assert str(unit_price(spot_line)) == "-0.000000"


def test_a_template_that_drifts_from_the_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first row of a group is checked against the model's JSON: a token written
    otherwise (here 12.3 for 12.30) stops the chunk instead of storing it."""
    n = interval_count(JANUARY, "PT1H")
    wh = np.full((3, n), 700, dtype=np.int64)
    bulk = settle_many(
        wh, period=JANUARY, resolution="PT1H", spot=_spot(n), charges=_charges(), vat_rate=D("0.25")
    )
    written = json_rows.decimal_tokens

    def drifted(values: Any, places: int, *args: Any) -> list[str]:
        return [t.rstrip('0"') + '"' if t != "null" else t for t in written(values, places, *args)]

    monkeypatch.setattr(json_rows, "decimal_tokens", drifted)
    with pytest.raises(AssertionError, match="templates differ from the models"):
        runs._group_rows(RUN, "2025-01", _group(bulk), D("0.25"))


def test_unit_prices_are_the_decimal_quantize_half_even() -> None:
    rng = np.random.default_rng(5)
    ore = rng.integers(-(10**9), 10**9, 20_000)
    wh = rng.integers(0, 10**9, 20_000)
    # Ties at the sixth decimal (10·øre / Wh = k + ½ millionths), both parities of k.
    ore[:2000] = np.arange(1, 4001, 2)[:2000] * np.where(np.arange(2000) % 2, 1, -1)
    wh[:2000] = 2 * 10**7
    ore[2000:2100], wh[2000:2100] = -1, 10**8  # -0.0000001: -0.000000
    wh[2100:2200] = 0
    magnitude, negative, defined, ok = bulk_module._unit_prices(ore, wh)
    assert ok.all()
    tokens = json_rows.decimal_tokens(magnitude, 6, negative, defined)
    for k in range(ore.size):
        line = Line("spot_energy", D(int(wh[k])).scaleb(-3), None, D(int(ore[k])).scaleb(-2))
        exact = unit_price(line)
        assert tokens[k] == ("null" if exact is None else f'"{exact}"'), (ore[k], wh[k])
    assert tokens[2000] == '"-0.000000"' and tokens[2100] == "null"


def test_charge_amounts_are_round_places_half_away_from_zero() -> None:
    rng = np.random.default_rng(9)
    for denominator in (1, 4, 10**6, 4 * 10**6, 3 * 10**7):
        numerators = rng.integers(-(10**15), 10**15, 5000)
        numerators[:50] = np.arange(-25, 25) * 500 * denominator  # exact ties
        units, ok = bulk_module._charge_units(numerators, denominator)
        assert ok.all()
        for numerator, unit in zip(numerators.tolist(), units.tolist(), strict=True):
            exact = round_places(Fraction(numerator, 1000 * denominator), CHARGE_PLACES)
            assert D(unit).scaleb(-CHARGE_PLACES) == exact
    # Beyond int64 once scaled: left to the Fraction path.
    _, ok = bulk_module._charge_units(np.asarray([2**60], np.int64), 3)
    assert not ok.any()


@pytest.mark.parametrize("places", [2, 3, 6])
def test_decimal_tokens_are_the_decimal_text(places: int) -> None:
    rng = np.random.default_rng(places)
    values = rng.integers(-(10**12), 10**12, 5000)
    values[:10] = [0, 1, -1, 9, -9, 10**places, -(10**places), 5, 99, -100]
    tokens = json_rows.decimal_tokens(values, places)
    assert tokens == [f'"{D(int(v)).scaleb(-places)}"' for v in values.tolist()]
    same = np.full(4, 1234, np.int64)
    assert json_rows.decimal_tokens(same, places) == [f'"{D(1234).scaleb(-places)}"'] * 4
