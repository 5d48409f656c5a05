"""DataHub documents as Energinet writes them: partial local days, several transactions, one
refused series.

Energinet's own documents (libs/wattline_cim/tests/energinet, provenance in its README) go
through the datahub service's store against real Postgres; the events are read from its outbox.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattline_cim import dumps
from wattline_datahub.handlers.inbound import store_inbound

if TYPE_CHECKING:
    from conftest import Rig

ENERGINET = Path(__file__).resolve().parents[3] / "libs" / "wattline_cim" / "tests" / "energinet"
REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"
GSRN = "571313000000002000"
ROOT = "NotifyValidatedMeasureData_MarketDocument"


def _subsystem_message() -> dict[str, Any]:
    """Energinet's subsystem-test message with its placeholders filled in as its driver does."""
    raw = (ENERGINET / "subsystem-MeteredDataForMeteringPoint.json").read_text("utf-8-sig")
    raw = raw.replace("{MessageId}", "m-1").replace("{TransactionId}", "t-1")
    doc: dict[str, Any] = json.loads(raw.replace("{MeteringPointId}", GSRN))
    return doc


def _hours(quantities: list[int]) -> list[dict[str, Any]]:
    return [
        {"position": {"value": i}, "quality": {"value": "A04"}, "quantity": q}
        for i, q in enumerate(quantities, start=1)
    ]


async def _measure_events(rig: Rig) -> list[dict[str, Any]]:
    return [
        e["payload"] for e in await rig.outbox() if e["type"] == "datahub.measure_data.received"
    ]


def _kwh(values: list[str | None]) -> list[Decimal | None]:
    return [None if v is None else Decimal(v) for v in values]


async def test_energinets_six_hours_are_published_as_the_day_with_the_rest_missing(
    rig: Rig,
) -> None:
    stored = await store_inbound(rig.service, "MeasureData", "m-1", dumps(_subsystem_message()))
    assert (stored.outcome, stored.events, stored.reason) == ("stored", 1, None)
    [day] = await _measure_events(rig)
    assert (day["gsrn"], day["local_date"], day["resolution"]) == (GSRN, "2024-06-29", "PT1H")
    assert _kwh(day["quantities_kwh"]) == [242, 242, 222, 202, 191, None] + [None] * 18
    assert day["qualities"] == ["A03", None, None, None, "A04", "A02"] + [None] * 18


async def test_a_later_message_fills_the_missing_hours(rig: Rig) -> None:
    await store_inbound(rig.service, "MeasureData", "m-1", dumps(_subsystem_message()))
    rest = _subsystem_message()
    series = rest[ROOT]["Series"][0]
    series["mRID"] = "t-2"
    series["Period"]["timeInterval"] = {
        "start": {"value": "2024-06-29T04:00Z"},
        "end": {"value": "2024-06-29T22:00Z"},
    }
    series["Period"]["Point"] = _hours(list(range(100, 118)))
    stored = await store_inbound(rig.service, "MeasureData", "m-2", dumps(rest))
    assert (stored.outcome, stored.events) == ("stored", 1)
    first, second = await _measure_events(rig)
    assert first["quantities_kwh"][6:] == [None] * 18
    assert second["transaction_id"] == "t-2"
    assert _kwh(second["quantities_kwh"]) == [242, 242, 222, 202, 191, None, *range(100, 118)]
    assert second["qualities"] == ["A03", None, None, None, "A04", "A02"] + ["A04"] * 18

    # A correction of hour 3 alone keeps the other 23 hours as they stood.
    fix = _subsystem_message()
    series = fix[ROOT]["Series"][0]
    series["Period"]["timeInterval"] = {
        "start": {"value": "2024-06-29T00:00Z"},
        "end": {"value": "2024-06-29T01:00Z"},
    }
    series["Period"]["Point"] = _hours([7])
    await store_inbound(rig.service, "MeasureData", "m-3", dumps(fix))
    third = (await _measure_events(rig))[2]
    assert _kwh(third["quantities_kwh"]) == [242, 242, 7, 202, 191, None, *range(100, 118)]


async def test_a_duplicate_partial_message_merges_nothing_twice(rig: Rig) -> None:
    body = dumps(_subsystem_message())
    assert (await store_inbound(rig.service, "MeasureData", "m-1", body)).outcome == "stored"
    assert (await store_inbound(rig.service, "MeasureData", "m-1", body)).outcome == "duplicate"
    assert len(await _measure_events(rig)) == 1


async def test_energinets_two_transactions_are_two_days(rig: Rig) -> None:
    raw = (ENERGINET / "ValidMeteredDataForMeteringPointWithTwoTransactions.json").read_bytes()
    stored = await store_inbound(rig.service, "MeasureData", "111131835", raw)
    assert (stored.outcome, stored.events) == ("stored", 2)
    days = await _measure_events(rig)
    assert [(d["transaction_id"], d["local_date"]) for d in days] == [
        ("4413675032_5080574373", "2024-06-29"),
        ("4413675032_5080574374", "2024-06-30"),
    ]
    for day in days:
        assert _kwh(day["quantities_kwh"]) == [242, 242, 222, 202, 191, None] + [None] * 18


async def test_a_bad_series_is_refused_alone_and_a_document_of_only_bad_ones_dead_lettered(
    rig: Rig,
) -> None:
    doc = json.loads(
        (ENERGINET / "ValidMeteredDataForMeteringPointWithTwoTransactions.json").read_text(
            "utf-8-sig"
        )
    )
    bad = doc[ROOT]["Series"][0]
    bad["Period"]["timeInterval"]["start"]["value"] = "2024-06-28T22:30Z"  # not a whole hour
    stored = await store_inbound(rig.service, "MeasureData", "mixed", dumps(doc))
    assert (stored.outcome, stored.events) == ("stored", 1)
    assert "series 0:" in (stored.reason or "")
    assert "not a whole number of PT1H" in (stored.reason or "")
    [day] = await _measure_events(rig)
    assert day["transaction_id"] == "4413675032_5080574374"
    row = await rig.service.database.fetchrow(
        "SELECT status, reason, events FROM inbound_messages WHERE message_id = 'mixed'"
    )
    assert (row["status"], row["events"]) == ("stored", 1)
    assert row["reason"] == stored.reason

    doc[ROOT]["Series"] = [bad]
    stored = await store_inbound(rig.service, "MeasureData", "all-bad", dumps(doc))
    assert (stored.outcome, stored.events) == ("dead_lettered", 0)
    assert len(await _measure_events(rig)) == 1


async def test_a_notification_of_two_records_publishes_both(rig: Rig) -> None:
    doc = json.loads((REFERENCE / "rsm004-generic-notification-end-of-supply.json").read_bytes())
    records = doc["GenericNotification_MarketDocument"]["MktActivityRecord"]
    records.append(json.loads(json.dumps(records[0])))
    records[1]["mRID"] = "second"
    records[1]["marketEvaluationPoint.mRID"]["value"] = "571313199900000022"
    stored = await store_inbound(rig.service, "MasterData", "two-records", dumps(doc))
    assert (stored.outcome, stored.events) == ("stored", 2)
    events = await rig.outbox()
    assert [(e["type"], e["key"], e["payload"]["transaction_id"]) for e in events] == [
        ("datahub.notification.received", "571313199900000015", records[0]["mRID"]),
        ("datahub.notification.received", "571313199900000022", "second"),
    ]
