"""The portfolio API's response models serialize to exactly the bodies the views built before
they were typed: the same keys in the same order, dates and instants as ``isoformat()``
strings (``+00:00``), amounts as decimal strings, a CPR/CVR only masked, and a product without
a price in force today without today's price keys (not nulls): one product model for both."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError
from wattline_portfolio import responses as r
from wattline_portfolio.domain.products import MarginCorridor
from wattline_portfolio.handlers import queries

CREATED = datetime(2025, 2, 6, 9, 30, 0, 123456, tzinfo=UTC)


def _same(model: Any, body: Any) -> None:
    """*model* sends *body* byte for byte (Litestar's pydantic plugin dumps in JSON mode)."""
    assert json.dumps(model.model_dump(mode="json")) == json.dumps(body)


def _version(n: int, valid_from: date, fixed: Decimal | None = None) -> Any:
    prices = SimpleNamespace(
        price_type="fixed" if fixed is not None else "spot",
        margin_dkk_per_kwh=Decimal("0.0800"),
        fixed_price_dkk_per_kwh=fixed,
        subscription_dkk_per_month=Decimal("29.00"),
    )
    return SimpleNamespace(version=n, valid_from=valid_from, prices=prices)


def _product(*versions: Any) -> Any:
    return SimpleNamespace(
        product_id="7b0c1f4e-8d4a-4f43-9a0e-222222222222",
        name="Spot",
        description="",
        green_energy=True,
        display_order=10,
        active=True,
        versions=list(versions),
        corridor=MarginCorridor(),
        on=lambda day: max(
            (v for v in versions if v.valid_from <= day),
            key=lambda v: v.valid_from,
            default=None,
        ),
    )


def test_a_product_in_force_with_its_next_version() -> None:
    product = _product(
        _version(1, date(2025, 1, 1)), _version(2, date(2025, 3, 1), fixed=Decimal("1.2500"))
    )
    body = queries.product_detail(product, date(2025, 2, 6))
    assert body["margin_dkk_per_kwh"] == "0.0800" and body["next_version"]["version"] == 2
    model = r.PortfolioProduct.of(body)
    assert model.version == 1
    _same(model, body)
    offer = queries.product_view(product, date(2025, 2, 6))
    assert offer is not None
    _same(r.PortfolioProductOffer.of(offer), offer)
    prices = queries._prices(product.versions[1])
    assert prices["fixed_price_dkk_per_kwh"] == "1.2500"
    _same(r.PortfolioPrices.of(prices), prices)


def test_a_product_not_yet_in_force_has_no_price_keys_of_today() -> None:
    body = queries.product_detail(_product(_version(1, date(2025, 3, 1))), date(2025, 2, 6))
    model = r.PortfolioProduct.of(body)
    assert model.version is None
    _same(model, body)
    dumped = model.model_dump(mode="json")
    assert "version" not in dumped and "next_version" not in dumped


def test_a_spot_product_keeps_its_null_fixed_price_and_next_version() -> None:
    body = queries.product_detail(_product(_version(1, date(2025, 1, 1))), date(2025, 2, 6))
    assert body["fixed_price_dkk_per_kwh"] is None and body["next_version"] is None
    _same(r.PortfolioProduct.of(body), body)


def test_todays_prices_come_whole_or_not_at_all() -> None:
    body = queries.product_detail(_product(_version(1, date(2025, 1, 1))), date(2025, 2, 6))
    with pytest.raises(ValidationError):
        r.PortfolioProduct.of({**body, "margin_dkk_per_kwh": None})
    unpriced = queries.product_detail(_product(_version(1, date(2025, 3, 1))), date(2025, 2, 6))
    with pytest.raises(ValidationError):
        r.PortfolioProduct.of({**unpriced, "margin_dkk_per_kwh": "0.0800"})


def _process_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "process_id": uuid.UUID("2b0c1f4e-8d4a-4f43-9a0e-111111111111"),
        "kind": "end_of_supply",
        "gsrn": "571313100000000017",
        "effective_date": date(2025, 3, 1),
        "status": "pending",
        "signup_id": None,
        "datahub_reference": None,
        "reasons": ["E16"],
        "raised_at": None,
        "created_at": CREATED,
    }
    return row | overrides


def test_processes_and_their_timeline() -> None:
    body = queries.process_view(_process_row())
    assert body["created_at"] == "2025-02-06T09:30:00.123456+00:00" and body["sent"] is False
    _same(r.PortfolioProcess.of(body), body)
    events = queries.timeline_view(
        [
            {
                "at": CREATED,
                "process_id": uuid.UUID("2b0c1f4e-8d4a-4f43-9a0e-111111111111"),
                "kind": "end_of_supply",
                "status": "pending",
                "source": "back_office",
                "detail": None,
            }
        ]
    )
    detail = {**body, "events": events}
    _same(r.PortfolioProcessDetail.of(detail), detail)
    page = {"items": [body], "page": 1, "page_size": 50}
    _same(r.PortfolioProcessPage.of(page), page)


def _signup_row() -> dict[str, Any]:
    return {
        "signup_id": "SU-0001",
        "status": "rejected",
        "gsrn": "571313100000000017",
        "type": "switch",
        "effective_date": "2025-03-01",
        "customer_name": "Bo Hansen",
        "rejection_reason": "E16",
        "end_reason": None,
        "end_date": None,
        "created_at": CREATED.isoformat(),
    }


def _person(masked: str) -> dict[str, Any]:
    return {
        "id": "9b0c1f4e-8d4a-4f43-9a0e-333333333333",
        "name": "Bo Hansen",
        "cpr_cvr": masked,
        "contact_type": "private",
        "email": None,
        "phone": "12345678",
        "billing_address": {
            "street": "Vestergade",
            "house_number": "3",
            "floor": None,
            "door": None,
            "postal_code": "8000",
            "city": "Aarhus C",
        },
    }


def test_signups_and_a_signup_with_its_people_masked() -> None:
    page = {"items": [_signup_row()], "total": 1, "page": 1, "page_size": 50}
    _same(r.PortfolioSignupPage.of(page), page)
    detail = {
        **_signup_row(),
        "dar_id": "0a3f50a0-0000-4000-8000-000000000001",
        "product_id": "7b0c1f4e-8d4a-4f43-9a0e-222222222222",
        "product_version": 1,
        "customer": _person("010190****"),
        "payer": None,
        "process": queries.process_view(_process_row(signup_id="SU-0001")),
        "resubmission_of": None,
        "resubmitted_as": "SU-0002",
        "updated_at": CREATED.isoformat(),
    }
    model = r.PortfolioSignupDetail.of(detail)
    _same(model, detail)
    assert model.customer.cpr_cvr == "010190****"


def test_a_customer_with_its_contracts_and_points() -> None:
    row = {
        "customer_id": "9b0c1f4e-8d4a-4f43-9a0e-333333333333",
        "name": "Bo Hansen",
        "cpr_cvr": "010190****",
        "contact_type": "private",
        "status": "active",
        "created_at": CREATED.isoformat(),
    }
    page = {"items": [row], "total": 1, "page": 1, "page_size": 50}
    _same(r.PortfolioCustomerPage.of(page), page)
    detail = {
        **_person("010190****"),
        "customer_id": "9b0c1f4e-8d4a-4f43-9a0e-333333333333",
        "signups": [_signup_row()],
        "supply_periods": [
            {
                "supply_period_id": "4b0c1f4e-8d4a-4f43-9a0e-444444444444",
                "gsrn": "571313100000000017",
                "start_date": "2025-03-01",
                "end_date": None,
                "status": "active",
                "end_reason": None,
            }
        ],
        "contracts": [
            {
                "contract_id": "5b0c1f4e-8d4a-4f43-9a0e-555555555555",
                "gsrn": "571313100000000017",
                "product_id": "7b0c1f4e-8d4a-4f43-9a0e-222222222222",
                "product_name": "Spot",
                "product_version": 1,
                "start_date": "2025-03-01",
                "end_date": None,
                "billing_frequency": "monthly",
                "payment_model": "postpaid",
                "payer_id": None,
            }
        ],
        "metering_points": [
            {
                "gsrn": "571313100000000017",
                "grid_area": "344",
                "price_area": "DK1",
                "metering_point_type": "E17",
                "settlement_method": "D01",
                "resolution": "PT1H",
            }
        ],
        "payers": [_person("1358****")],
    }
    _same(r.PortfolioCustomerDetail.of(detail), detail)


def test_an_address_with_an_open_process() -> None:
    body = {
        "dar_id": "0a3f50a0-0000-4000-8000-000000000001",
        "gsrns": ["571313100000000017", "571313100000000024"],
        "metering_points": [
            {"gsrn": "571313100000000017", "supplied_by_us": True, "open_process": None},
            {
                "gsrn": "571313100000000024",
                "supplied_by_us": False,
                "open_process": {
                    "process_id": "2b0c1f4e-8d4a-4f43-9a0e-111111111111",
                    "kind": "switch",
                    "status": "pending",
                    "signup_id": "SU-0001",
                },
            },
        ],
    }
    _same(r.PortfolioAddress.of(body), body)


def test_a_key_the_model_lacks_is_an_error_not_dropped() -> None:
    with pytest.raises(ValidationError):
        r.PortfolioProcessCancelled.of(
            {"process_id": "x", "cancellation": "done", "extra": "kept?"}
        )
