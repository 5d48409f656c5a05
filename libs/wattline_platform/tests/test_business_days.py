from datetime import date

from wattline_platform.business_days import business_days_back, is_business_day


def test_danish_holidays_and_eves() -> None:
    assert not is_business_day(date(2025, 4, 17))  # Maundy Thursday
    assert not is_business_day(date(2025, 12, 24))  # Christmas Eve, closed by default
    assert is_business_day(date(2025, 12, 24), closed_eves=False)
    assert is_business_day(date(2024, 4, 26))  # Store Bededag is no longer a holiday
    assert not is_business_day(date(2023, 5, 5))  # ... but was in 2023


def test_business_days_back_skips_weekends_and_holidays() -> None:
    # Tuesday 2025-04-22: back over Easter Monday, Good Friday, Maundy Thursday and a weekend.
    assert business_days_back(date(2025, 4, 22), 2) == date(2025, 4, 15)
