"""The comparison rules on their own (no I/O): Danish days of 23 and 25 hours, quarters summed
into hours, versions ranked, the tolerance in kWh and in percent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from wattline_reconciliation.domain.energy import (
    PointDay,
    Slot,
    Tolerance,
    day_hours,
    local_dates,
    reconcile_day,
    slot_starts,
    version_rank,
)

EXACT = Tolerance(Decimal(0), Decimal(0))


def test_a_danish_day_has_23_24_or_25_hours_from_local_midnight() -> None:
    assert len(day_hours(date(2026, 3, 29))) == 23  # summer time begins
    assert len(day_hours(date(2026, 10, 25))) == 25  # ... and ends
    winter = day_hours(date(2026, 1, 15))
    assert (len(winter), winter[0]) == (24, datetime(2026, 1, 14, 23, tzinfo=UTC))
    assert day_hours(date(2026, 7, 1))[0] == datetime(2026, 6, 30, 22, tzinfo=UTC)


def test_a_series_touches_the_local_days_it_covers() -> None:
    start, end = datetime(2026, 1, 14, 23, tzinfo=UTC), datetime(2026, 1, 16, 23, tzinfo=UTC)
    assert local_dates(start, end) == [date(2026, 1, 15), date(2026, 1, 16)]
    assert local_dates(
        datetime(2026, 1, 15, 21, tzinfo=UTC), datetime(2026, 1, 16, 3, tzinfo=UTC)
    ) == [
        date(2026, 1, 15),
        date(2026, 1, 16),
    ]  # a partial series of six hours around midnight


def test_a_correction_outranks_balance_fixing_and_a_later_correction_an_earlier() -> None:
    ranks = [version_rank("D03", None), version_rank("D04", None), version_rank("D05", None),
             version_rank("D32", "D01"), version_rank("D32", "D02")]  # fmt: skip
    assert ranks == sorted(ranks) and len(set(ranks)) == 5
    assert version_rank("X99", None) < ranks[0]


def test_quarters_on_either_side_are_summed_into_hours() -> None:
    day = date(2026, 10, 25)  # 25 hours: 100 quarters
    hours = day_hours(day)
    datahub = [Slot("PT15M", s, Decimal("0.250")) for s in slot_starts(hours[0], "PT15M", 100)]
    datahub[4 * 2 + 1] = Slot("PT15M", datahub[9].start, Decimal("0.750"))  # hour 2: +0.500
    ours = [
        PointDay("571313100000000001", "PT15M", [200] * 100),
        PointDay("571313100000000002", "PT1H", [200] * 25),
    ]
    [result] = reconcile_day(day, {("E17", "D01"): datahub}, {("E17", "D01"): ours}, EXACT)
    assert len(result.hours) == 25
    assert {h.status for h in result.hours if h.position != 2} == {"matched"}
    hour_2 = result.hours[2]
    assert (hour_2.status, hour_2.datahub_kwh, hour_2.ours_kwh) == (
        "deviation",
        Decimal("1.500"),
        Decimal("1.000"),
    )
    assert (hour_2.deviation_kwh, hour_2.deviation_percent) == (
        Decimal("-0.500"),
        Decimal("-33.33"),
    )


def test_both_tolerances_must_be_exceeded_for_a_deviation() -> None:
    tolerance = Tolerance(kwh=Decimal("0.010"), percent=Decimal("1"))
    assert not tolerance.exceeded(Decimal("0.010"), Decimal("0.100"))  # 10 % but 10 Wh
    assert not tolerance.exceeded(Decimal("5"), Decimal("1000"))  # 5 kWh but 0.5 %
    assert tolerance.exceeded(Decimal("-11"), Decimal("1000"))
    assert tolerance.exceeded(Decimal("0.020"), Decimal("0"))  # DataHub says nothing was used


def test_a_group_only_datahub_has_is_missing_ours_and_one_of_points_without_data_is_left_out() -> (
    None
):
    day = date(2026, 1, 15)
    hours = day_hours(day)
    production = [Slot("PT1H", h, Decimal("2.000")) for h in hours]
    silent = [PointDay("571313100000000009", "PT1H", None)]
    results = reconcile_day(
        day, {("E18", ""): production}, {("E17", "D01"): silent, ("E18", ""): silent}, EXACT
    )
    [e18] = results
    assert (e18.metering_point_type, e18.status, e18.count("missing_ours")) == (
        "E18",
        "missing_ours",
        24,
    )


def test_odd_wholesale_versions_rank_as_the_oldest_instead_of_failing() -> None:
    from wattline_reconciliation.domain.wholesale import series_rank

    assert series_rank("D03", "12") == (3, 12)
    assert series_rank(None, None) == (0, 0)
    # '²' and Arabic-Indic digits pass isdigit() but not int(); 20 digits overflow a bigint.
    assert series_rank("D²", "\u0661\u0662") == (0, 0)
    assert series_rank("D" + "9" * 20, "9" * 20) == (0, 0)
