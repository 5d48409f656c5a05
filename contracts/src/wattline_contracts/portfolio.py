"""Events published by the portfolio service."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from wattline_contracts.envelope import Event

Gsrn = Field(pattern=r"^57\d{16}$", description="18-digit GSRN of the metering point")


class MeteringPointRegisteredV1(Event):
    """A metering point entered the supplier's portfolio (or its master data changed)."""

    TYPE: ClassVar[str] = "portfolio.metering_point.registered"
    VERSION: ClassVar[int] = 1

    gsrn: str = Gsrn
    grid_area: str = Field(pattern=r"^\d{3}$")
    price_area: Literal["DK1", "DK2"]
    metering_point_type: Literal["E17", "E18", "E20"] = "E17"
    settlement_method: Literal["D01", "E02", "E01"] | None = "D01"
    resolution: Literal["PT1H", "PT15M"] = "PT1H"


# The business processes a supplier starts at DataHub, and everything it can ask DataHub for.
BrsKind = Literal["BRS-001", "BRS-002", "BRS-003", "BRS-009", "BRS-010", "BRS-011"]
RequestKind = Literal[
    "BRS-001",
    "BRS-002",
    "BRS-003",
    "BRS-009",
    "BRS-010",
    "BRS-011",
    "RSM-002",
    "RSM-015",
    "RSM-016",
]


class DataHubRequestRaisedV1(Event):
    """The portfolio asks DataHub for something (a BRS process, data): datahub sends it.

    ``customer_id_sealed`` is the CPR/CVR number sealed with the shared PII key, never the
    number itself.
    """

    TYPE: ClassVar[str] = "portfolio.datahub_request.raised"
    VERSION: ClassVar[int] = 1

    request_id: str = Field(description="unique per request; sending is idempotent on it")
    kind: RequestKind
    gsrn: str | None = Field(default=None, pattern=r"^57\d{16}$")
    effective_date: date | None = Field(default=None, description="Danish local date")
    period_start: AwareDatetime | None = None
    period_end: AwareDatetime | None = None
    grid_area: str | None = Field(default=None, pattern=r"^\d{3}$")
    balance_responsible_gln: str | None = None
    customer_scheme: Literal["ARR", "VAT"] | None = Field(
        default=None, description="ARR: CPR, VAT: CVR"
    )
    customer_id_sealed: str | None = None
    customer_name: str | None = None
    cancels_request_id: str | None = Field(
        default=None, description="RSM-002: the request (of the same process) to cancel"
    )
    cancels_kind: BrsKind | None = Field(
        default=None, description="RSM-002: the kind of the request to cancel"
    )
