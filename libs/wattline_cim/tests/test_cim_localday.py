"""Danish local-day view of RSM-012 series."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from wattline_cim import (
    CimError,
    LocalDay,
    MeasureDataDocument,
    MeasurePoint,
    MeasureSeries,
    build_document,
    dumps,
    local_day_json,
    local_days,
    parse_document,
)
from wattline_cim._time import fmt_minutes

# The reference examples live beside the repository, in shared/ (as in CI).
FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"
GSRN = "571313199900000015"


def _fixture_series(name: str) -> MeasureSeries:
    doc = parse_document((FIXTURES / name).read_bytes())
    assert isinstance(doc, MeasureDataDocument)
    return doc.series[0]


def _synthetic(start: datetime, end: datetime, resolution: str, count: int) -> MeasureSeries:
    """A series built as the simulator would: model -> builder -> wire -> parser."""
    series = MeasureSeries(
        transaction_id="tx",
        gsrn=GSRN,
        metering_point_type="E17",
        registered_at=end,
        resolution=resolution,
        start=start,
        end=end,
        points=tuple(
            MeasurePoint(position=i, quantity=Decimal(i) / 1000, quality="A04")
            for i in range(1, count + 1)
        ),
    )
    document = MeasureDataDocument(
        message_id="m", receiver_gln="5799994000015", created=end, series=(series,)
    )
    parsed = parse_document(dumps(build_document(document)))
    assert isinstance(parsed, MeasureDataDocument)
    return parsed.series[0]


def test_winter_day_2025_01_15() -> None:
    (day,) = local_days(_fixture_series("rsm012-validated-measure-data-pt1h-2025-01-15.json"))
    assert (day.gsrn, day.local_date, day.resolution) == (GSRN, date(2025, 1, 15), "PT1H")
    assert len(day.values) == 24
    assert str(day.values[0]) == "0.312"
    assert day.qualities[17] == "A03"
    assert day.values[17] == Decimal("1.184")


def test_spring_dst_day_2025_03_30_has_23_hours() -> None:
    (day,) = local_days(_fixture_series("rsm012-validated-measure-data-pt1h-dst-2025-03-30.json"))
    assert day.local_date == date(2025, 3, 30)
    assert len(day.values) == 23


def test_quarter_hour_summer_day_2025_10_15() -> None:
    (day,) = local_days(_fixture_series("rsm012-validated-measure-data-pt15m-2025-10-15.json"))
    assert (day.local_date, day.resolution, len(day.values)) == (date(2025, 10, 15), "PT15M", 96)
    assert day.values[0] == Decimal("0.072")


def test_autumn_dst_day_2025_10_26_has_25_hours() -> None:
    start = datetime(2025, 10, 25, 22, 0, tzinfo=UTC)  # local midnight, summer time
    end = datetime(2025, 10, 26, 23, 0, tzinfo=UTC)  # local midnight, winter time
    (hourly,) = local_days(_synthetic(start, end, "PT1H", 25))
    assert (hourly.local_date, len(hourly.values)) == (date(2025, 10, 26), 25)
    (quarterly,) = local_days(_synthetic(start, end, "PT15M", 100))
    assert (quarterly.local_date, len(quarterly.values)) == (date(2025, 10, 26), 100)
    assert quarterly.values[-1] == Decimal("0.100")


def test_quarter_hour_spring_dst_day_has_92_values() -> None:
    start = datetime(2025, 3, 29, 23, 0, tzinfo=UTC)
    end = datetime(2025, 3, 30, 22, 0, tzinfo=UTC)
    (day,) = local_days(_synthetic(start, end, "PT15M", 92))
    assert len(day.values) == 92


def test_two_day_series_splits_on_local_midnight() -> None:
    start = datetime(2025, 1, 14, 23, 0, tzinfo=UTC)
    end = datetime(2025, 1, 16, 23, 0, tzinfo=UTC)
    first, second = local_days(_synthetic(start, end, "PT1H", 48))
    assert (first.local_date, second.local_date) == (date(2025, 1, 15), date(2025, 1, 16))
    assert first.values[0] == Decimal("0.001")
    assert second.values[0] == Decimal("0.025")
    assert len(first.values) == len(second.values) == 24


def test_series_across_spring_dst_splits_24_and_23() -> None:
    start = datetime(2025, 3, 28, 23, 0, tzinfo=UTC)
    end = datetime(2025, 3, 30, 22, 0, tzinfo=UTC)
    saturday, sunday = local_days(_synthetic(start, end, "PT1H", 47))
    assert (len(saturday.values), len(sunday.values)) == (24, 23)
    assert sunday.local_date == date(2025, 3, 30)
    assert sunday.values[0] == Decimal("0.025")


ENERGINET = Path(__file__).parent / "energinet"


def _energinet(name: str) -> MeasureDataDocument:
    raw = (ENERGINET / name).read_text(encoding="utf-8-sig")
    # The subsystem test's driver fills these in; a real GSRN and ids, as it would.
    raw = raw.replace("{MessageId}", "msg-1").replace("{TransactionId}", "tx-1")
    raw = raw.replace("{MeteringPointId}", "571313000000002000")
    doc = parse_document(raw)
    assert isinstance(doc, MeasureDataDocument)
    assert doc.refused == ()
    return doc


def test_energinets_partial_day_is_the_hours_it_holds_and_the_rest_missing() -> None:
    doc = _energinet("subsystem-MeteredDataForMeteringPoint.json")
    [series] = doc.series
    assert (fmt_minutes(series.start), fmt_minutes(series.end)) == (
        "2024-06-28T22:00Z",
        "2024-06-29T04:00Z",
    )
    [day] = local_days(series)
    # 22:00Z is local midnight (CEST): the first six of the day's 24 hours.
    assert day.local_date == date(2024, 6, 29)
    assert (
        day.values
        == (
            Decimal(242),
            Decimal(242),
            Decimal(222),
            Decimal(202),
            Decimal(191),
            None,
        )
        + (None,) * 18
    )
    assert day.qualities == ("A03", None, None, None, "A04", "A02") + (None,) * 18
    assert day.received == (True,) * 6 + (False,) * 18
    assert not day.complete


def test_energinets_two_transactions_are_two_days_with_the_points_they_hold() -> None:
    doc = _energinet("ValidMeteredDataForMeteringPointWithTwoTransactions.json")
    assert [s.transaction_id for s in doc.series] == [
        "4413675032_5080574373",
        "4413675032_5080574374",
    ]
    days = [day for s in doc.series for day in local_days(s)]
    assert [d.local_date for d in days] == [date(2024, 6, 29), date(2024, 6, 30)]
    for day in days:
        assert day.values[:6] == (
            Decimal(242),
            Decimal(242),
            Decimal(222),
            Decimal(202),
            Decimal(191),
            None,
        )
        assert day.values[6:] == (None,) * 18
        assert day.received == (True,) * 6 + (False,) * 18
    assert days[0].qualities[4] == "A05"


def test_a_series_over_midnight_splits_into_two_partial_days() -> None:
    start = datetime(2025, 1, 15, 20, 0, tzinfo=UTC)  # 21:00 local
    end = datetime(2025, 1, 16, 2, 0, tzinfo=UTC)  # 03:00 local the next day
    first, second = local_days(_synthetic(start, end, "PT1H", 6))
    assert (first.local_date, second.local_date) == (date(2025, 1, 15), date(2025, 1, 16))
    assert first.received == (False,) * 21 + (True,) * 3
    assert second.received == (True,) * 3 + (False,) * 21
    assert [v for v in first.values + second.values if v is not None] == [
        p.quantity for p in _synthetic(start, end, "PT1H", 6).points
    ]


def test_a_series_off_a_whole_step_is_rejected() -> None:
    start = datetime(2025, 1, 15, 0, 30, tzinfo=UTC)
    end = datetime(2025, 1, 15, 4, 30, tzinfo=UTC)
    with pytest.raises(CimError, match="does not start and end on a whole PT1H step"):
        local_days(_synthetic(start, end, "PT1H", 4))
    # At PT15M the same instants are whole quarters: two partial hours are fine.
    [day] = local_days(_synthetic(start, end, "PT15M", 16))
    assert day.received == (False,) * 6 + (True,) * 16 + (False,) * 74


def test_daily_resolution_has_no_local_day_view() -> None:
    start = datetime(2025, 1, 14, 23, 0, tzinfo=UTC)
    end = datetime(2025, 1, 15, 23, 0, tzinfo=UTC)
    with pytest.raises(CimError, match="PT15M or PT1H"):
        local_days(_synthetic(start, end, "P1D", 1))


def test_local_day_json_exact_line() -> None:
    day = LocalDay(
        gsrn=GSRN,
        local_date=date(2025, 1, 15),
        resolution="PT1H",
        values=(Decimal("0.4125"), None, Decimal("1"), Decimal("0.41249")),
        qualities=("A04", "A02", None, "A03"),
    )
    assert local_day_json(day) == (
        '{"gsrn": "571313199900000015", "local_date": "2025-01-15", "resolution": "PT1H", '
        '"kwh": ["0.413", null, "1.000", "0.412"], "quality": ["A04", "A02", null, "A03"]}'
    )


def test_local_day_json_of_the_fixture_day() -> None:
    (day,) = local_days(_fixture_series("rsm012-validated-measure-data-pt1h-2025-01-15.json"))
    line = local_day_json(day)
    assert "\n" not in line
    parsed = json.loads(line)
    assert list(parsed) == ["gsrn", "local_date", "resolution", "kwh", "quality"]
    assert parsed["kwh"][0] == "0.312"
    assert parsed["quality"][17] == "A03"
