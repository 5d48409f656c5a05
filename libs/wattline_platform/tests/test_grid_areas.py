"""Grid area -> price area."""

from __future__ import annotations

import pytest
from wattline_platform.grid_areas import PRICE_AREAS, price_area


@pytest.mark.parametrize(
    ("grid_area", "area"),
    [
        ("344", "DK1"),  # N1, West Jutland
        ("131", "DK1"),  # N1, East Jutland
        ("543", "DK1"),  # Funen lies west of the Great Belt
        ("031", "DK1"),  # leading zero kept: codes are three-character text
        ("740", "DK2"),  # Cerius, Zealand
        ("791", "DK2"),  # Radius, Copenhagen
        ("911", "DK2"),  # Bornholm trades in DK2
    ],
)
def test_price_area_of_a_grid_area(grid_area: str, area: str) -> None:
    assert price_area(grid_area) == area


def test_unknown_grid_areas_have_no_price_area() -> None:
    assert price_area("999") is None
    assert price_area("31") is None  # not normalised: DataHub always sends three digits
    assert price_area("") is None


def test_the_table_is_well_formed_and_read_only() -> None:
    assert all(len(code) == 3 and code.isdigit() for code in PRICE_AREAS)
    assert set(PRICE_AREAS.values()) == {"DK1", "DK2"}
    # The codes follow the regions: 0xx-5xx Jutland and Funen, 7xx-9xx east of the Great Belt.
    assert all((code < "600") == (area == "DK1") for code, area in PRICE_AREAS.items())
    with pytest.raises(TypeError):
        PRICE_AREAS["001"] = "DK1"  # type: ignore[index]
