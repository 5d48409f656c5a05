"""The events settlement publishes, from what the domain settled: ``settlement.completed``
(:func:`completed`) and the lines of it and of ``settlement.correction`` (:func:`line_events`).

A run's many settlements of one price group are rendered at once (:func:`render_group`): the
event payloads and the stored lines as JSON text from templates, without a model per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from wattline_contracts.settlement import (
    ChargeAmountV1,
    ProductUsedV1,
    SettlementCompletedV1,
    SettlementLineV1,
)

from wattline_settlement.adapters import json_rows
from wattline_settlement.adapters import runs as store
from wattline_settlement.domain.billing import Item
from wattline_settlement.domain.bulk import BulkSettlement, Figures
from wattline_settlement.domain.model import ChargeAmount, Line, Result, unit_price
from wattline_settlement.handlers.inputs import Inputs


def _charge_event(a: ChargeAmount) -> ChargeAmountV1:
    return ChargeAmountV1(
        charge_type=a.charge_type,
        charge_owner_gln=a.owner_gln,
        charge_id=a.charge_id,
        quantity_kwh=a.quantity_kwh,
        days=a.days,
        amount=a.amount,
    )


def by_code(amounts: Sequence[ChargeAmount]) -> dict[str, list[int]]:
    """The indexes of *amounts* per line code, in order: a line's charges."""
    out: dict[str, list[int]] = defaultdict(list)
    for k, a in enumerate(amounts):
        out[a.code].append(k)
    return out


def line_events(
    lines: Sequence[Line], amounts: Sequence[ChargeAmount] = ()
) -> list[SettlementLineV1]:
    """The lines as an event carries them, each with its unit price and its charges'."""
    charges = by_code(amounts)
    return [
        SettlementLineV1(
            code=line.code,
            quantity_kwh=line.quantity_kwh,
            days=line.days,
            amount=line.amount,
            unit_price=unit_price(line),
            charges=[_charge_event(amounts[k]) for k in charges.get(line.code, ())],
        )
        for line in lines
    ]


def completed(
    row: dict[str, Any], item: Item, inputs: Inputs, result: Result, vat_rate: Decimal
) -> SettlementCompletedV1:
    """The event of a new settlement (*row* as stored)."""
    return SettlementCompletedV1(
        settlement_id=str(row["settlement_id"]),
        run_id=str(row["run_id"]),
        gsrn=item.gsrn,
        customer_id=item.customer_id,
        supply_period_id=item.supply_period_id,
        billing_period=row["billing_period"],
        period_start=item.period.start,
        period_end=item.period.end,
        grid_area=inputs.grid_area,
        price_area=inputs.price_area,
        resolution=inputs.resolution,
        products=[
            ProductUsedV1(
                product_id=p.product_id,
                product_version=p.version,
                start_date=p.start,
                end_date=p.end,
            )
            for p in inputs.products
        ],
        consumption_kwh=result.consumption_kwh,
        lines=line_events(result.lines, result.charge_amounts),
        subtotal=result.subtotal,
        vat_rate=vat_rate,
        vat=result.vat,
        total=result.total,
    )


@dataclass(frozen=True)
class Rendered:
    """Settlements of one group as stored and published, row by row: the figures the
    settlement row keeps, its lines (jsonb text) and its ``settlement.completed`` payload."""

    rows: list[int]  # of the group's BulkSettlement
    consumption_kwh: list[Decimal]
    subtotal: list[Decimal]
    vat: list[Decimal]
    total: list[Decimal]
    lines: list[str]
    payloads: list[str]


def render_group(
    bulk: BulkSettlement,
    figures: Figures,
    first: tuple[dict[str, Any], Item, Inputs],
    ids: dict[str, list[str]],
    vat_rate: Decimal,
) -> Rendered:
    """Render the rows ``figures.rows`` of *bulk*: *ids* holds their ``settlement_id``,
    ``gsrn``, ``customer_id`` and ``supply_period_id`` (everything else of the event is the
    group's, from *first*: the first of those rows' stored row, item and inputs).

    The first row is made the ordinary way (its :class:`Result`, the contract model, which
    validates it, and ``lines_json``); the templates are those documents with the per-row
    figures slotted (:func:`_slotted`), and their rendering of the first row must be the
    model's JSON and the stored document exactly, so a template cannot drift from the
    contract or the stored format. Figures per row: those of lines with a quantity and of
    per-kWh charges; a subscription or fee line is the group's (see ``bulk.Figures``)."""
    rows = figures.rows
    result = bulk.result(int(rows[0]))
    row, item, inputs = first
    event = completed(row, item, inputs, result, vat_rate).model_dump(mode="json")
    lines = store.lines_json(result.lines, result.charge_amounts)
    charges = by_code(result.charge_amounts)
    expected = json_rows.dumps(event), json_rows.dumps(lines)
    payloads = json_rows.Template(_slotted(event, event["lines"], figures, bulk.codes, charges))
    stored = json_rows.Template(_slotted(lines, lines, figures, bulk.codes, charges))
    tokens = _tokens(bulk, figures, ids)
    out = Rendered(
        rows=rows.tolist(),
        consumption_kwh=_decimals(bulk.consumption_wh[rows], 3),
        subtotal=_decimals(bulk.subtotal_ore[rows], 2),
        vat=_decimals(bulk.vat_ore[rows], 2),
        total=_decimals(bulk.total_ore[rows], 2),
        lines=stored.render(tokens),
        payloads=payloads.render(tokens),
    )
    if (out.payloads[0], out.lines[0]) != expected:
        raise AssertionError(f"settlement templates differ from the models for {item.gsrn}")
    return out


_PER_ROW = ("settlement_id", "gsrn", "customer_id", "supply_period_id")
_FIGURES = ("consumption_kwh", "subtotal", "vat", "total")


def _slotted(
    doc: Any,
    lines: list[dict[str, Any]],
    figures: Figures,
    codes: Sequence[str],
    charges: dict[str, list[int]],
) -> Any:
    """*doc* (an event payload or stored lines, with *lines* its lines) with slots where its
    rows differ: ``l<k>.q|a|u`` for line column k's kWh, amount and unit price, ``c<j>.q|a``
    for charge part j's kWh and amount, and the settlement's ids and totals."""
    if isinstance(doc, dict):
        for name in (*_PER_ROW, *_FIGURES):
            doc[name] = json_rows.slot(name)
    for k in figures.per_kwh_lines:
        line = lines[k]
        assert line["code"] == codes[k]
        line["quantity_kwh"] = json_rows.slot(f"l{k}.q")
        line["amount"] = json_rows.slot(f"l{k}.a")
        if "unit_price" in line:
            line["unit_price"] = json_rows.slot(f"l{k}.u")
    per_kwh = set(figures.per_kwh_charges)
    for line in lines:
        for charge, j in zip(line.get("charges", ()), charges.get(line["code"], ()), strict=True):
            if j in per_kwh:
                charge["quantity_kwh"] = json_rows.slot(f"c{j}.q")
                charge["amount"] = json_rows.slot(f"c{j}.a")
    return doc


def _tokens(
    bulk: BulkSettlement, figures: Figures, ids: dict[str, list[str]]
) -> dict[str, list[str]]:
    rows = figures.rows
    tokens = {name: json_rows.string_tokens(ids[name]) for name in _PER_ROW}
    tokens["consumption_kwh"] = json_rows.decimal_tokens(bulk.consumption_wh[rows], 3)
    for name, ore in (
        ("subtotal", bulk.subtotal_ore),
        ("vat", bulk.vat_ore),
        ("total", bulk.total_ore),
    ):
        tokens[name] = json_rows.decimal_tokens(ore[rows], 2)
    for k in figures.per_kwh_lines:
        tokens[f"l{k}.q"] = json_rows.decimal_tokens(bulk.quantity_wh[rows, k], 3)
        tokens[f"l{k}.a"] = json_rows.decimal_tokens(bulk.amount_ore[rows, k], 2)
        tokens[f"l{k}.u"] = json_rows.decimal_tokens(
            figures.unit_price_micro[rows, k],
            6,
            figures.unit_price_negative[rows, k],
            figures.unit_price_defined[rows, k],
        )
    if figures.per_kwh_charges:
        assert bulk.part_quantity_wh is not None
        for j in figures.per_kwh_charges:
            tokens[f"c{j}.q"] = json_rows.decimal_tokens(bulk.part_quantity_wh[rows, j], 3)
            tokens[f"c{j}.a"] = json_rows.decimal_tokens(figures.charge_micro[rows, j], 6)
    return tokens


def _decimals(values: np.ndarray[Any, Any], places: int) -> list[Decimal]:
    return [Decimal(v).scaleb(-places) for v in values.tolist()]
