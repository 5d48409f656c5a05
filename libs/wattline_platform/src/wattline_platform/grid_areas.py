"""Danish grid areas (netområder) and the price area (bidding zone) each lies in.

DataHub's master data for a metering point (RSM-022) carries the grid area only; the spot price
depends on the price area: DK1 west of the Great Belt (Jutland, Funen), DK2 east of it
(Zealand, Lolland-Falster, Bornholm).

Provenance: no Energinet master-data extract of grid areas with their price areas was at hand.
The table is compiled from public lists of grid companies by grid area code (derived from
Energi Data Service's DatahubPricelist and Green Power Denmark's grid-company lookup), checked
against each company's region, which decides the price area. It includes the five areas the
DataHub simulator uses (131, 344, 543 -> DK1; 740, 791 -> DK2). Grid areas are merged and
renumbered over time, so an unknown code yields None rather than a guess; before production
reconcile the table with Energinet's market-participant register.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

PriceArea = Literal["DK1", "DK2"]

_DK1 = (
    # North Jutland
    "016",  # El-net Kongerslev
    "031",  # Nord Energi Net
    "032",  # Nord Energi Net
    "042",  # Netselskabet Elværk
    "051",  # Elinord
    "084",  # Kimbrer Elnet
    "085",  # Læsø Elnet
    # East and Central Jutland
    "131",  # N1
    "141",  # Hammel Elforsyning Net
    "151",  # Konstant Net
    "154",  # Elnet Midt
    "233",  # Dinel
    "244",  # TREFOR El-net
    "245",  # Konstant Net
    # West Jutland
    "331",  # Netselskabet Elværk
    "341",  # Grindsted Elnet
    "342",  # Ikast El Net
    "344",  # N1
    "347",  # NOE Net
    "348",  # RAH Net
    "351",  # L-Net
    "357",  # Forsyning Elnet
    "370",  # Aal El-Net
    "371",  # Hjerting Transformatorforening
    "381",  # Hurup Elværk Net
    "384",  # Tarm Elværk Net
    "385",  # Videbæk Elnet / RAH Net
    "396",  # Sunds Net
    "398",  # N1
    # Funen
    "531",  # Ravdex
    "532",  # Veksel
    "533",  # FLOW Elnet
    "543",  # Vores Elnet
    "584",  # Midtfyns Elforsyning
)
_DK2 = (
    # Zealand and Lolland-Falster
    "740",  # Cerius
    "757",  # Elektrus
    "790",  # Radius Elnet
    "791",  # Radius Elnet
    "853",  # Cerius
    "854",  # NKE-Elnet
    "860",  # Zeanet
    # Bornholm
    "911",  # TREFOR El-net Øst
)

PRICE_AREAS: Mapping[str, PriceArea] = MappingProxyType(
    {**dict.fromkeys(_DK1, "DK1"), **dict.fromkeys(_DK2, "DK2")}
)


def price_area(grid_area: str) -> PriceArea | None:
    """The price area of the grid area with code *grid_area* (e.g. ``"344"``), or None when
    the code is not in :data:`PRICE_AREAS`."""
    return PRICE_AREAS.get(grid_area)
