"""Danish formatting, the channels of a preference and the retry backoff."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from wattline_notifications.adapters.templates import load
from wattline_notifications.domain.messages import (
    KINDS,
    Backoff,
    channels_for,
    dansk_dato,
    kroner,
)


def test_amounts_and_dates_the_danish_way() -> None:
    assert kroner(Decimal("1234.56")) == "1.234,56"
    assert kroner(Decimal("1234567.005")) == "1.234.567,01"
    assert kroner(Decimal("-80")) == "-80,00"
    assert dansk_dato(date(2027, 1, 15)) == "15. januar 2027"
    assert dansk_dato(date(2026, 5, 1)) == "1. maj 2026"


def test_channels_of_a_preference() -> None:
    assert channels_for("none") == ()
    assert channels_for("sms") == ("sms",)


def test_backoff_doubles_to_its_cap_then_gives_up() -> None:
    backoff = Backoff(first_s=30, max_s=100, max_attempts=4)
    assert [backoff.delay(a) for a in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=100),
    ]
    assert backoff.delay(4) is None


def test_every_kind_has_an_email_with_a_subject_and_an_sms() -> None:
    templates = load()
    assert {kind for kind, _ in templates} == set(KINDS)
    for (kind, channel), template in templates.items():
        assert (template.subject is not None) == (channel == "email"), kind
    with pytest.raises(KeyError):
        templates[("invoice_issued", "email")].render({"number": "2026-00001"})
