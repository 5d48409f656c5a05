"""The simulated market's pure rules: local days, profiles, estimates, seeding, fast CIM text."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from stdnum.dk import cpr as stdnum_cpr
from stdnum.dk import cvr as stdnum_cvr
from wattline_cim import MeasureDataDocument, build_document, dumps, parse_document
from wattline_platform.identifiers import is_valid_gln, is_valid_gsrn
from wattline_simulator.domain.cimtext import SeriesHead, measure_document, points_text, series_text
from wattline_simulator.domain.faults import (
    MALFORMED,
    Fault,
    InvalidFault,
    broken_documents,
    budget,
    generation_fault,
)
from wattline_simulator.domain.market import (
    OTHER_SUPPLIER_GLN,
    PRICE_AREA,
    day_plan,
    due_days,
    hourly_sums,
    kwh_text,
    local_day_bounds,
    point_day,
)
from wattline_simulator.domain.seeding import (
    customer_id_for,
    customer_key,
    dar_id_for,
    gsrn_for,
    seeded_points,
)

OURS = "5799994000015"


def test_local_days_have_23_24_or_25_hours() -> None:
    assert local_day_bounds(date(2025, 1, 15)) == (
        datetime(2025, 1, 14, 23, tzinfo=UTC),
        datetime(2025, 1, 15, 23, tzinfo=UTC),
    )
    assert local_day_bounds(date(2025, 3, 30)) == (
        datetime(2025, 3, 29, 23, tzinfo=UTC),
        datetime(2025, 3, 30, 22, tzinfo=UTC),
    )
    assert local_day_bounds(date(2025, 10, 26)) == (
        datetime(2025, 10, 25, 22, tzinfo=UTC),
        datetime(2025, 10, 26, 23, tzinfo=UTC),
    )
    assert [day_plan(date(2025, m, d)).hours for m, d in ((1, 15), (3, 30), (10, 26))] == [
        24,
        23,
        25,
    ]


def test_due_days_are_the_fully_passed_local_days() -> None:
    first = date(2025, 1, 1)
    assert due_days(first, datetime(2025, 1, 1, 22, 59, tzinfo=UTC)) == []
    assert due_days(first, datetime(2025, 1, 1, 23, tzinfo=UTC)) == [date(2025, 1, 1)]
    assert due_days(first, datetime(2025, 1, 3, 22, 59, tzinfo=UTC)) == [
        date(2025, 1, 1),
        date(2025, 1, 2),
    ]


def test_point_day_is_deterministic_with_concrete_watt_hours() -> None:
    plan = day_plan(date(2025, 1, 15))
    gsrn = gsrn_for(1, 0)
    first = point_day(gsrn, plan, "household", "PT1H", 4000)
    again = point_day(gsrn, day_plan(date(2025, 1, 15)), "household", "PT1H", 4000)
    assert first == again
    assert len(first.values) == 24
    assert first.values[:4] == [380, 299, 249, 185]
    assert sum(first.values) == 15178  # 15.178 kWh: 4,000 kWh/year in January
    assert first.estimated is None and first.sent == first.values
    # Another day, another metering point: other values.
    assert point_day(gsrn, day_plan(date(2025, 1, 16)), "household", "PT1H", 4000) != first
    assert point_day(gsrn_for(1, 1), plan, "household", "PT1H", 4000) != first


def test_points_per_resolution_on_dst_days() -> None:
    gsrn = gsrn_for(1, 0)
    for day, hours in ((date(2025, 3, 30), 23), (date(2025, 10, 26), 25)):
        plan = day_plan(day)
        assert len(point_day(gsrn, plan, "household", "PT1H", 4000).values) == hours
        quarters = point_day(gsrn, plan, "household", "PT15M", 4000).values
        assert len(quarters) == hours * 4
        assert len(hourly_sums(quarters, "PT15M")) == hours
        assert sum(hourly_sums(quarters, "PT15M")) == sum(quarters)


def _mean_by_local_hour(day: date, profile: str, n: int = 300) -> list[int]:
    plan = day_plan(day)
    totals = [0] * plan.hours
    for i in range(n):
        for hour, wh in enumerate(point_day(gsrn_for(7, i), plan, profile, "PT1H", 4000).values):
            totals[hour] += wh
    return [t // n for t in totals]


def test_household_profile_has_peaks_and_is_higher_in_winter() -> None:
    winter = _mean_by_local_hour(date(2025, 1, 15), "household")  # position p = local hour p-1
    summer = _mean_by_local_hour(date(2025, 7, 15), "household")  # position p = local hour p-1
    night, morning, midday, evening = winter[3], winter[7], winter[12], winter[18]
    assert night < midday < morning < evening
    assert evening > 3 * night
    assert sum(winter) > 1.5 * sum(summer)


def test_solar_produces_only_in_daylight() -> None:
    plan = day_plan(date(2025, 6, 21))  # position p = local hour p-1 (no DST change)
    local = point_day(gsrn_for(1, 3), plan, "solar", "PT1H", 6000).values
    assert all(local[h] == 0 for h in (0, 1, 2, 3, 4, 22, 23))
    assert local[13] > local[8] > 0 and local[13] > local[19] > 0


def test_about_one_percent_estimated_with_the_expected_profile() -> None:
    plan = day_plan(date(2025, 1, 15))
    estimated = [
        (gsrn, pd)
        for gsrn, pd in (
            (gsrn_for(1, i), point_day(gsrn_for(1, i), plan, "household", "PT15M", 4000))
            for i in range(10_000)
        )
        if pd.estimated is not None
    ]
    assert len(estimated) == 93  # of 10,000: about 1 %
    for _, pd in estimated:
        assert pd.estimated is not None
        first, last = pd.estimated
        assert first % 4 == 0 and last % 4 == 0 and 4 <= last - first <= 12  # 1-3 hours
        assert pd.sent[:first] == pd.values[:first] and pd.sent[last:] == pd.values[last:]
    # The estimate is the noise-free profile, so it differs from what was measured.
    assert any(pd.sent != pd.values for _, pd in estimated)


def test_kwh_text_is_exact() -> None:
    assert [kwh_text(v) for v in (0, 5, 312, 12_345, -5)] == [
        "0.000",
        "0.005",
        "0.312",
        "12.345",
        "-0.005",
    ]


def test_fast_rsm012_text_is_what_the_cim_library_builds() -> None:
    plan = day_plan(date(2025, 10, 26))  # 25 hours, 100 quarters
    gsrns = [gsrn_for(1, i) for i in range(300)]
    days = {g: point_day(g, plan, "household", "PT15M", 4000) for g in gsrns}
    gsrn = next(g for g, pd in days.items() if pd.estimated is not None)
    pd = days[gsrn]
    estimated = SeriesHead("tx-1", gsrn, "E17", "PT15M", plan.start, plan.end, plan.end)
    correction = SeriesHead(
        "tx-2", gsrn, "E17", "PT15M", plan.start, plan.end, plan.end, original_transaction_id="tx-1"
    )
    body = measure_document(
        "msg-1",
        OURS,
        plan.end,
        [
            series_text(estimated, points_text(pd.sent, pd.estimated)),
            series_text(correction, points_text(pd.values)),
        ],
    )
    doc = parse_document(body)
    assert isinstance(doc, MeasureDataDocument)
    assert dumps(build_document(doc)) == body
    first, last = doc.series
    assert len(first.points) == 100
    assert pd.estimated is not None
    a03 = [p.position for p in first.points if p.quality == "A03"]
    assert a03 == list(range(pd.estimated[0] + 1, pd.estimated[1] + 1))
    assert {p.quality for p in last.points} == {"A04"}
    assert last.original_transaction_id == "tx-1"
    assert [p.quantity for p in last.points] == [Decimal(kwh_text(v)) for v in pd.values]


def test_seeding_is_deterministic_and_valid() -> None:
    assert gsrn_for(1, 0) == "571300010000000001"
    points = list(seeded_points(1, 2000, supplier_gln=OURS))
    assert points == list(seeded_points(1, 2000, supplier_gln=OURS))
    assert points[:500] == list(seeded_points(1, 500, supplier_gln=OURS))  # a prefix
    assert [(p.grid_area, p.metering_point_type, p.profile) for p in points[:4]] == [
        ("791", "E17", "business"),
        ("740", "E17", "household"),
        ("791", "E17", "household"),
        ("791", "E18", "solar"),
    ]
    assert all(is_valid_gsrn(p.gsrn) for p in points)
    assert len({p.gsrn for p in points}) == 2000
    assert all(PRICE_AREA[p.grid_area] == p.price_area for p in points)
    assert {p.grid_area for p in points} == {"344", "131", "543", "740", "791"}
    pt15m = sum(p.resolution == "PT15M" for p in points)
    assert 160 <= pt15m <= 240  # ~10 %
    per_address: dict[uuid.UUID, int] = {}
    for p in points:
        per_address[p.dar_id] = per_address.get(p.dar_id, 0) + 1
    sizes = sorted(per_address.values())
    assert sizes[0] == 1 and sizes[-1] == 3 and 2 in sizes
    assert all(p.supplier_gln == OURS for p in points)
    half = list(seeded_points(1, 2000, supplier_gln=OURS, ours_share=0.5))
    others = sum(p.supplier_gln == OTHER_SUPPLIER_GLN for p in half)
    assert 850 <= others <= 1150 and is_valid_gln(OTHER_SUPPLIER_GLN)
    assert {p.gsrn for p in seeded_points(2, 100, supplier_gln=OURS)}.isdisjoint(
        p.gsrn for p in points
    )


def test_synthetic_customers() -> None:
    dar = dar_id_for(1, 0)
    assert dar == dar_id_for(1, 0) != dar_id_for(1, 1)
    scheme, cpr = customer_id_for(dar, business=False)
    assert scheme == "ARR" and len(cpr) == 10 and cpr.isdigit()
    assert 1 <= int(cpr[:2]) <= 28 and 1 <= int(cpr[2:4]) <= 12
    scheme, cvr = customer_id_for(dar, business=True)
    assert scheme == "VAT" and len(cvr) == 8 and cvr.isdigit()
    assert customer_key("VAT", cvr) != customer_key("ARR", cvr)
    assert len(customer_key("VAT", cvr)) == 64


def test_synthetic_customers_have_valid_cpr_and_cvr_numbers() -> None:
    dars = [dar_id_for(seed, address) for seed in (0, 1, 4711) for address in range(1500)]
    cprs = [customer_id_for(dar, business=False)[1] for dar in dars]
    cvrs = [customer_id_for(dar, business=True)[1] for dar in dars]
    assert all(map(stdnum_cpr.is_valid, cprs)), [n for n in cprs if not stdnum_cpr.is_valid(n)]
    assert all(map(stdnum_cvr.is_valid, cvrs)), [n for n in cvrs if not stdnum_cvr.is_valid(n)]
    assert len(set(cprs)) > 0.99 * len(dars) and len(set(cvrs)) > 0.99 * len(dars)
    assert customer_id_for(dars[7], business=True) == customer_id_for(str(dars[7]), True)


def test_generation_fault_budget() -> None:
    faults = [
        Fault("*", "aggregation_deviation", 5),
        Fault("Aggregations", "aggregation_deviation", 2),
        Fault("MeasureData", "aggregation_deviation", 9),
    ]
    fault = generation_fault(faults, "aggregation_deviation", "Aggregations")
    assert fault == Fault("Aggregations", "aggregation_deviation", 2)
    assert budget(fault, 5) == 2 and budget(fault, 1) == 1 and budget(None, 5) == 0
    assert budget(Fault("*", "aggregation_deviation", -1), 5) == 5
    assert generation_fault(faults[2:], "aggregation_deviation", "Aggregations") is None


def test_broken_documents_of_the_queue_faults_and_the_faults_refused() -> None:
    assert broken_documents(Fault("MeasureData", "malformed", 2)) == [MALFORMED, MALFORMED]
    (invalid,) = broken_documents(Fault("MeasureData", "schema_invalid", 1))
    assert json.loads(invalid)["NotifyValidatedMeasureData_MarketDocument"]["Series"] == (
        "not a list"
    )
    assert broken_documents(Fault("*", "duplicate", 1)) == []
    assert broken_documents(Fault("Aggregations", "aggregation_deviation", 1)) == []
    with pytest.raises(InvalidFault, match="applies to Aggregations"):
        broken_documents(Fault("MeasureData", "aggregation_deviation", 1))
    with pytest.raises(InvalidFault, match="need a category and a count"):
        broken_documents(Fault("*", "malformed", 1))
    with pytest.raises(InvalidFault, match="need a category and a count"):
        broken_documents(Fault("MeasureData", "schema_invalid", -1))
