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


def test_series_not_on_local_midnight_is_rejected() -> None:
    start = datetime(2025, 1, 15, 0, 0, tzinfo=UTC)  # 01:00 local
    end = datetime(2025, 1, 16, 0, 0, tzinfo=UTC)
    with pytest.raises(CimError, match="does not start and end on Danish local midnight"):
        local_days(_synthetic(start, end, "PT1H", 24))


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
