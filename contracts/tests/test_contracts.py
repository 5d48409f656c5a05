"""Contracts: the checked-in schemas match the models; envelopes round-trip."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from wattline_contracts import EVENTS, Envelope, event_class, topics
from wattline_contracts.generate import stale
from wattline_contracts.portfolio import MeteringPointRegisteredV1


def test_generated_json_schema_and_asyncapi_match_the_models() -> None:
    assert stale() == [], "run `make contracts` and commit the result"


def test_every_event_is_frozen_versioned_and_past_tense() -> None:
    for event in EVENTS:
        assert event.model_config.get("frozen") is True
        assert event.__name__.endswith(f"V{event.VERSION}")
        assert event_class(event.TYPE, event.VERSION) is event
    assert "portfolio.metering_point.registered" in topics()


def test_envelope_round_trip_and_utc() -> None:
    event = MeteringPointRegisteredV1(gsrn="571313100000000003", grid_area="344", price_area="DK1")
    cet = timezone(timedelta(hours=1))
    env = Envelope.wrap(
        event,
        key=event.gsrn,
        producer="portfolio",
        correlation_id="abc",
        causation_id=uuid.uuid4(),
        occurred_at=datetime(2025, 1, 15, 1, 0, tzinfo=cet),
    )
    again = Envelope.model_validate_json(env.model_dump_json())
    assert again == env
    assert again.occurred_at.utcoffset() == timedelta(0)
    assert again.occurred_at.hour == 0
    assert MeteringPointRegisteredV1.model_validate(again.payload) == event


def test_envelope_rejects_naive_times_and_events_reject_bad_fields() -> None:
    with pytest.raises(ValidationError):
        Envelope(
            event_id=uuid.uuid4(),
            type="x",
            version=1,
            occurred_at=datetime(2025, 1, 1),
            correlation_id="c",
            producer="p",
            key="k",
            payload={},
        )
    with pytest.raises(ValidationError):
        MeteringPointRegisteredV1(gsrn="12345", grid_area="344", price_area="DK1")
    with pytest.raises(ValidationError):
        MeteringPointRegisteredV1(gsrn="571313100000000003", grid_area="344", price_area="DK3")  # type: ignore[arg-type]


def test_identifiers_in_events_are_ascii_digits() -> None:
    # pydantic's pattern engine reads \d as any Unicode digit: the contracts say [0-9].
    with pytest.raises(ValidationError):
        MeteringPointRegisteredV1(gsrn="57" + "\u0661" * 16, grid_area="344", price_area="DK1")
    with pytest.raises(ValidationError):
        MeteringPointRegisteredV1(
            gsrn="571313100000000003", grid_area="\u0663\u0664\u0664", price_area="DK1"
        )
