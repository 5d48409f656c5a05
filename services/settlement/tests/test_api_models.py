"""The settlement API's response models serialize to exactly the bodies the views built
before they were typed: the same keys in the same order, amounts and kWh as decimal strings,
instants as Python's ISO strings (``+00:00``, not pydantic's ``Z``), dates ISO, and a line's
``charges`` absent (not null) where none were stored."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from wattline_settlement import api, models
from wattline_settlement.handlers import runs

REQUESTED = datetime(2025, 2, 6, 1, 0, 0, 123456, tzinfo=UTC)
FINISHED = datetime(2025, 2, 6, 1, 0, 7, tzinfo=UTC)
LINES = [
    {
        "code": "grid_tariff",
        "quantity_kwh": "243.780",
        "days": None,
        "amount": "80.71",
        "charges": [
            {
                "owner_gln": "5790000610976",
                "charge_type": "D03",
                "charge_id": "NET-T",
                "quantity_kwh": "243.780",
                "days": None,
                "amount": "80.710000",
            }
        ],
    },
    {"code": "grid_subscription", "quantity_kwh": None, "days": 31, "amount": "49.00"},
]


def _body(model: Any) -> str:
    """The JSON Litestar sends for *model* (its pydantic plugin dumps in JSON mode)."""
    return json.dumps(model.model_dump(mode="json"))


def _run_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "run_id": uuid.UUID("2b0c1f4e-8d4a-4f43-9a0e-111111111111"),
        "billing_period": "2025-01",
        "grid_area": None,
        "trigger": "schedule",
        "status": "completed",
        "total_items": 3,
        "done_items": 3,
        "settled_items": 2,
        "blocked_items": 0,
        "already_settled_items": 1,
        "attempts": 1,
        "reason": None,
        "requested_at": REQUESTED,
        "started_at": REQUESTED,
        "finished_at": FINISHED,
    }
    return {**row, **overrides}


def _settlement_row() -> dict[str, Any]:
    return {
        "settlement_id": uuid.UUID("77e57a68-a5d9-5756-9fed-15c4dd4baf91"),
        "run_id": uuid.UUID("2b0c1f4e-8d4a-4f43-9a0e-111111111111"),
        "gsrn": "571313100000000017",
        "customer_id": uuid.UUID("0e6a3c57-0000-4000-8000-000000000001"),
        "billing_period": "2025-01",
        "period_start": date(2025, 1, 1),
        "period_end": date(2025, 2, 1),
        "grid_area": "344",
        "consumption_kwh": Decimal("243.780"),
        "lines": LINES,
        "subtotal": Decimal("623.35"),
        "vat": Decimal("155.84"),
        "total": Decimal("779.19"),
        "current_total": Decimal("779.19"),
        "credited": False,
        "invoice_id": None,
        "invoiced_at": None,
    }


def test_a_run_is_the_run_view() -> None:
    for row in (_run_row(), _run_row(grid_area="344", status="waiting", finished_at=None)):
        view = runs.run_view(row)
        assert _body(models.SettlementRun.model_validate(view)) == json.dumps(view)
    view = runs.run_view(_run_row())
    assert view["requested_at"] == "2025-02-06T01:00:00.123456+00:00"
    detail = {**view, "blocked": [{"gsrn": "571313100000000017", "reason": "no spot prices"}]}
    assert _body(models.SettlementRunDetail.model_validate(detail)) == json.dumps(detail)


def test_a_settlement_is_the_settlement_view_with_and_without_charges() -> None:
    view = runs.settlement_view(_settlement_row())
    body = _body(models.SettlementOut.model_validate(view))
    assert body == json.dumps(view)
    assert json.loads(body)["lines"][1] == {
        "code": "grid_subscription",
        "quantity_kwh": None,
        "days": 31,
        "amount": "49.00",
    }  # no "charges": null
    marked = {**view, "invoice_id": "INV-1", "invoiced_at": FINISHED.isoformat()}
    assert _body(models.SettlementOut.model_validate(marked)) == json.dumps(marked)


def test_a_correction_is_the_body_it_was() -> None:
    row = {
        "correction_id": uuid.UUID("99a40b09-0100-4519-bd8e-30f9967c19e2"),
        "settlement_id": uuid.UUID("77e57a68-a5d9-5756-9fed-15c4dd4baf91"),
        "reason": "metering_data_corrected",
        "period_start": date(2025, 1, 1),
        "period_end": date(2025, 2, 1),
        "consumption_kwh": Decimal("-1.250"),
        "lines": LINES[:1],
        "subtotal": Decimal("-0.41"),
        "vat": Decimal("-0.10"),
        "total": Decimal("-0.51"),
        "invoice_id": None,
        "invoiced_at": None,
        "created_at": FINISHED,
    }
    assert _body(api._correction(row)) == json.dumps(
        {
            "correction_id": "99a40b09-0100-4519-bd8e-30f9967c19e2",
            "settlement_id": "77e57a68-a5d9-5756-9fed-15c4dd4baf91",
            "reason": "metering_data_corrected",
            "period": {"start": "2025-01-01", "end": "2025-02-01"},
            "consumption_kwh": "-1.250",
            "lines": LINES[:1],
            "subtotal": "-0.41",
            "vat": "-0.10",
            "total": "-0.51",
            "invoice_id": None,
            "invoiced_at": None,
            "created_at": "2025-02-06T01:00:07+00:00",
        }
    )


def test_elvarme_and_the_reduced_rate_echo_the_request_as_before() -> None:
    data = models.ElvarmeIn(from_date=date(2025, 1, 1), consumed_kwh_before=Decimal("1200.500"))
    assert _body(models.Elvarme(gsrn="571313100000000017", **data.model_dump())) == json.dumps(
        {"gsrn": "571313100000000017", **data.model_dump(mode="json")}
    )
    rate = models.ReducedTaxIn(valid_from=date(2025, 1, 1), dkk_per_kwh=Decimal("0.008000"))
    assert _body(models.ReducedElectricityTax(**rate.model_dump())) == json.dumps(
        rate.model_dump(mode="json")
    )
    assert rate.model_dump(mode="json")["dkk_per_kwh"] == "0.008000"
