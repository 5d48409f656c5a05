"""`wattline datahub parse FILE`: what support sees of a document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"


def _parse(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wattline", "datahub", "parse", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_rsm012_prints_one_line_per_metering_point_and_local_day() -> None:
    out = _parse(FIXTURES / "rsm012-validated-measure-data-pt1h-2025-01-15.json")
    assert out.returncode == 0, out.stderr
    [line] = out.stdout.splitlines()
    assert line.startswith(
        '{"gsrn": "571313199900000015", "local_date": "2025-01-15", '
        '"resolution": "PT1H", "kwh": ["0.312", '
    )
    day = json.loads(line)
    assert len(day["kwh"]) == len(day["quality"]) == 24
    assert day["quality"][17] == "A03" and day["kwh"][17] == "1.184"


def test_the_spring_dst_day_has_23_hours_and_pt15m_has_96_quarters() -> None:
    dst = json.loads(
        _parse(FIXTURES / "rsm012-validated-measure-data-pt1h-dst-2025-03-30.json").stdout
    )
    assert (dst["local_date"], len(dst["kwh"])) == ("2025-03-30", 23)
    quarter = json.loads(
        _parse(FIXTURES / "rsm012-validated-measure-data-pt15m-2025-10-15.json").stdout
    )
    assert (quarter["local_date"], quarter["resolution"], len(quarter["kwh"])) == (
        "2025-10-15",
        "PT15M",
        96,
    )


def test_other_documents_print_the_events_they_become() -> None:
    out = _parse(FIXTURES / "rsm004-generic-notification-end-of-supply.json")
    [event] = [json.loads(line) for line in out.stdout.splitlines()]
    assert event["type"] == "datahub.notification.received"
    assert event["payload"]["gsrn"] == "571313199900000015"
    assert event["payload"]["validity_start"].startswith("2025-03-31T22:00")


def test_an_invalid_document_exits_2_with_a_one_line_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"NotifyValidatedMeasureData_MarketDocument": {"mRID": ')
    out = _parse(bad)
    assert out.returncode == 2
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert "bad.json" in out.stderr


ENERGINET = Path(__file__).resolve().parents[3] / "libs" / "wattline_cim" / "tests" / "energinet"


def test_energinets_two_partial_days_print_with_the_missing_hours_null(tmp_path: Path) -> None:
    out = _parse(ENERGINET / "ValidMeteredDataForMeteringPointWithTwoTransactions.json")
    assert out.returncode == 0, out.stderr
    days = [json.loads(line) for line in out.stdout.splitlines()]
    assert [d["local_date"] for d in days] == ["2024-06-29", "2024-06-30"]
    for day in days:
        assert day["kwh"] == ["242.000", "242.000", "222.000", "202.000", "191.000"] + [None] * 19

    doc = json.loads(
        (ENERGINET / "ValidMeteredDataForMeteringPointWithTwoTransactions.json").read_text(
            "utf-8-sig"
        )
    )
    doc["NotifyValidatedMeasureData_MarketDocument"]["Series"][0]["Period"]["timeInterval"][
        "start"
    ]["value"] = "2024-06-28T22:30Z"
    bad = tmp_path / "one-bad-series.json"
    bad.write_text(json.dumps(doc))
    out = _parse(bad)
    assert out.returncode == 0
    [line] = out.stdout.splitlines()
    assert json.loads(line)["local_date"] == "2024-06-30"
    assert "refused series 0:" in out.stderr
    assert "not a whole number of PT1H" in out.stderr


def test_a_notification_of_two_records_prints_both_events(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "rsm004-generic-notification-end-of-supply.json").read_bytes())
    records = doc["GenericNotification_MarketDocument"]["MktActivityRecord"]
    records.append(json.loads(json.dumps(records[0])))
    records[1]["mRID"] = "second"
    two = tmp_path / "two.json"
    two.write_text(json.dumps(doc))
    out = _parse(two)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["payload"]["transaction_id"] for e in events] == [records[0]["mRID"], "second"]
