"""A day DataHub first sent whole, then corrected in part (some hours: BRS-021 allows series of
whole hours, at least 4): the event carries the corrected hours, and the hours the correction
did not carry without value and without quality. Consumers (settlement) lay such a day over
the version they have; a value DataHub sends as missing carries quality A02, so the two never
look alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wattline_cim import dumps
from wattline_datahub.handlers.inbound import store_inbound

from .test_partial_days import ROOT, _hours, _kwh, _measure_events, _subsystem_message

if TYPE_CHECKING:
    from conftest import Rig


async def test_a_whole_day_then_four_corrected_hours(rig: Rig) -> None:
    # Given 29 June 2024 sent whole (local midnight is 22:00Z in summer)
    whole = _subsystem_message()
    series = whole[ROOT]["Series"][0]
    series["Period"]["timeInterval"] = {
        "start": {"value": "2024-06-28T22:00Z"},
        "end": {"value": "2024-06-29T22:00Z"},
    }
    series["Period"]["Point"] = _hours([500] * 24)
    assert (await store_inbound(rig.service, "MeasureData", "m-1", dumps(whole))).events == 1
    # When DataHub corrects 10:00-14:00 local (08:00Z-12:00Z) alone
    fix = _subsystem_message()
    series = fix[ROOT]["Series"][0]
    series["mRID"] = "t-2"
    series["Period"]["timeInterval"] = {
        "start": {"value": "2024-06-29T08:00Z"},
        "end": {"value": "2024-06-29T12:00Z"},
    }
    series["Period"]["Point"] = _hours([1500] * 4)
    assert (await store_inbound(rig.service, "MeasureData", "m-2", dumps(fix))).events == 1
    # Then the correction's event is the day with those four hours, the rest not sent
    first, second = await _measure_events(rig)
    assert _kwh(first["quantities_kwh"]) == [500] * 24
    assert (second["local_date"], second["transaction_id"]) == ("2024-06-29", "t-2")
    assert _kwh(second["quantities_kwh"]) == [None] * 10 + [1500] * 4 + [None] * 10
    assert second["qualities"] == [None] * 10 + ["A04"] * 4 + [None] * 10
