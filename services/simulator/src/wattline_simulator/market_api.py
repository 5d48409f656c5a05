"""The ``/sim`` endpoints of the simulated market: seeding, generation log, addresses."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field
from wattline_platform.identifiers import is_valid_gln
from wattline_platform.inputs import PageSize
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_simulator.domain import seeding
from wattline_simulator.domain.market import OTHER_SUPPLIER_GLN, PRICE_AREA
from wattline_simulator.domain.seeding import MAX_METERING_POINTS, MAX_SEED
from wattline_simulator.handlers import market
from wattline_simulator.settings import SimulatorSettings


def _settings(service: ServiceDep) -> SimulatorSettings:
    settings = service.settings
    assert isinstance(settings, SimulatorSettings)
    return settings


class SeedIn(BaseModel):
    metering_points: int = Field(ge=0, le=MAX_METERING_POINTS)
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    pt15m_share: float = Field(default=0.1, ge=0, le=1)
    ours_share: float = Field(default=1.0, ge=0, le=1)


class MarketOut(BaseModel):
    """How many metering points the market has, in all and per supplier, grid area,
    resolution and type."""

    metering_points: int
    supplier_gln: dict[str, int]
    grid_area: dict[str, int]
    resolution: dict[str, int]
    metering_point_type: dict[str, int]


class SeededOut(MarketOut):
    added: int = Field(description="metering points new with this seeding")


class MarketSummaryOut(MarketOut):
    price_areas: dict[str, str] = Field(description="each grid area's price area (DK1, DK2)")


@post("/sim/seed", status_code=200, summary="Seed N metering points (deterministic, idempotent)")
async def seed(data: JSONBody[SeedIn], service: ServiceDep) -> SeededOut:
    added, counts = await market.seed(
        service.database,
        _settings(service),
        data.metering_points,
        data.seed,
        data.pt15m_share,
        data.ours_share,
    )
    return SeededOut(added=added, **counts)


@get("/sim/market", summary="Metering points per supplier, grid area, resolution and type")
async def market_summary(service: ServiceDep) -> MarketSummaryOut:
    counts = await market.counts(service.database)
    return MarketSummaryOut(**counts, price_areas=dict(PRICE_AREA))


class CountOut(BaseModel):
    documents: int
    series: int


class DeviationOut(BaseModel):
    """An injected aggregation_deviation: the position skewed and by how many kWh."""

    position: int
    kwh: str


class AggregateOut(BaseModel):
    """A day's RSM-014 for a grid area."""

    grid_area: str
    message_id: str
    transaction_id: str
    metering_points: int
    total_kwh: str
    sent_total_kwh: str = Field(description="what the RSM-014 said (total_kwh + a deviation)")
    deviation: DeviationOut | None


class GeneratedDayLogOut(BaseModel):
    local_date: str
    start: str
    end: str
    duration_ms: int
    documents: dict[str, int] = Field(description="per category")
    series: dict[str, int] = Field(description="per category")
    by_kind: dict[str, CountOut]
    aggregates: list[AggregateOut]


class WholesaleGeneratedOut(BaseModel):
    """An RSM-019 of a month, grid area and charge, with any injected wholesale_deviation."""

    billing_period: str
    grid_area: str
    charge_owner_gln: str
    charge_type: str
    charge_id: str
    local_date: str
    message_id: str
    amount_dkk: str
    deviation_dkk: str | None


class GeneratedOut(BaseModel):
    documents: dict[str, int] = Field(description="per category, all days")
    series: dict[str, int] = Field(description="per category, all days")
    days: list[GeneratedDayLogOut]
    wholesale: list[WholesaleGeneratedOut]


@get("/sim/generated", summary="What the daily generation queued, in total and per day")
async def generated(service: ServiceDep) -> GeneratedOut:
    found = await market.generated(service.database)
    days, logs, aggregates, months = found.days, found.logs, found.aggregates, found.wholesale
    documents: dict[str, int] = {}
    series: dict[str, int] = {}
    per_day: dict[str, dict[str, Any]] = {
        d["local_date"].isoformat(): {
            "local_date": d["local_date"].isoformat(),
            "start": d["day_start"].isoformat(),
            "end": d["day_end"].isoformat(),
            "duration_ms": d["duration_ms"],
            "documents": {},
            "series": {},
            "by_kind": {},
            "aggregates": [],
        }
        for d in days
    }
    for log in logs:
        category = log["category"]
        documents[category] = documents.get(category, 0) + log["documents"]
        series[category] = series.get(category, 0) + log["series"]
        day = per_day[log["local_date"].isoformat()]
        day["documents"][category] = day["documents"].get(category, 0) + log["documents"]
        day["series"][category] = day["series"].get(category, 0) + log["series"]
        day["by_kind"][log["kind"]] = {"documents": log["documents"], "series": log["series"]}
    for agg in aggregates:
        per_day[agg["local_date"].isoformat()]["aggregates"].append(
            {
                "grid_area": agg["grid_area"],
                "message_id": agg["message_id"],
                "transaction_id": agg["transaction_id"],
                "metering_points": agg["metering_points"],
                "total_kwh": str(agg["total_kwh"]),
                "sent_total_kwh": str(agg["sent_total_kwh"]),
                "deviation": None
                if agg["deviation_position"] is None
                else {"position": agg["deviation_position"], "kwh": str(agg["deviation_kwh"])},
            }
        )
    out = {
        "documents": documents,
        "series": series,
        "days": list(per_day.values()),
        # RSM-019 per month, grid area and charge, with any injected wholesale_deviation.
        "wholesale": [
            {
                "billing_period": w["billing_period"],
                "grid_area": w["grid_area"],
                "charge_owner_gln": w["charge_owner_gln"],
                "charge_type": w["charge_type"],
                "charge_id": w["charge_id"],
                "local_date": w["local_date"].isoformat(),
                "message_id": w["message_id"],
                "amount_dkk": str(w["amount_dkk"]),
                "deviation_dkk": None if w["deviation_dkk"] is None else str(w["deviation_dkk"]),
            }
            for w in months
        ],
    }
    return GeneratedOut.model_validate(out)


class AddressOut(BaseModel):
    dar_id: str
    gsrns: list[str]


@get("/sim/addresses/{dar_id:str}", summary="The metering points at a DAR address")
async def address(dar_id: FromPath[str], service: ServiceDep) -> AddressOut:
    try:
        key = uuid.UUID(dar_id)
    except ValueError:
        raise Problem(404, "unknown-address", "No such address", dar_id) from None
    gsrns = await market.address_gsrns(service.database, key)
    if not gsrns:
        raise Problem(404, "unknown-address", "No such address", dar_id)
    return AddressOut(dar_id=str(key), gsrns=gsrns)


class MeteringPointOut(BaseModel):
    gsrn: str
    grid_area: str
    price_area: str
    metering_point_type: str
    settlement_method: str
    resolution: str
    profile: str
    annual_kwh: int
    supplier_gln: str | None
    supply_start: str | None
    dar_id: str
    blocked: bool


@get("/sim/metering-points/{gsrn:str}", summary="A metering point's master data")
async def metering_point(gsrn: FromPath[str], service: ServiceDep) -> MeteringPointOut:
    row = await market.metering_point(service.database, gsrn)
    if row is None:
        raise Problem(404, "unknown-metering-point", "No such metering point", gsrn)
    return MeteringPointOut(
        **{
            "gsrn": row["gsrn"],
            "grid_area": row["grid_area"],
            "price_area": row["price_area"],
            "metering_point_type": row["metering_point_type"],
            "settlement_method": row["settlement_method"],
            "resolution": row["resolution"],
            "profile": row["profile"],
            "annual_kwh": row["annual_kwh"],
            "supplier_gln": row["supplier_gln"],
            "supply_start": None
            if row["supply_start"] is None
            else row["supply_start"].isoformat(),
            "dar_id": str(row["dar_id"]),
            "blocked": row["blocked"],
        }
    )


class ProcessOut(BaseModel):
    process_reference: str
    process_type: str
    gsrn: str
    request_transaction_id: str
    supplier_gln: str
    previous_supplier_gln: str | None
    effective_start: str
    state: str
    reasons: list[str]


@get("/sim/processes", summary="RSM-001 processes: open, completed and rejected")
async def list_processes(service: ServiceDep) -> list[ProcessOut]:
    rows = await market.processes(service.database)
    return [
        ProcessOut(
            **{
                "process_reference": r["process_reference"],
                "process_type": r["process_type"],
                "gsrn": r["gsrn"],
                "request_transaction_id": r["request_transaction_id"],
                "supplier_gln": r["supplier_gln"],
                "previous_supplier_gln": r["previous_supplier_gln"],
                "effective_start": r["effective_start"].isoformat(),
                "state": r["state"],
                "reasons": list(r["reasons"]),
            }
        )
        for r in rows
    ]


class SwitchIn(BaseModel):
    gsrn: str
    effective_start: datetime
    supplier_gln: str = OTHER_SUPPLIER_GLN


class SwitchOut(BaseModel):
    process_reference: str


@post("/sim/processes/switch", status_code=201, summary="Another supplier takes a metering point")
async def switch(data: JSONBody[SwitchIn], service: ServiceDep) -> SwitchOut:
    if not is_valid_gln(data.supplier_gln):
        raise Problem(400, "invalid-gln", "supplier_gln is not a valid GLN", data.supplier_gln)
    effective = data.effective_start
    if effective.tzinfo is None:
        effective = effective.replace(tzinfo=UTC)
    reference = await market.switch(service.database, data.gsrn, data.supplier_gln, effective)
    if reference is None:
        raise Problem(
            409, "switch-refused", "Unknown metering point or a process is already open", data.gsrn
        )
    return SwitchOut(process_reference=reference)


class PointOut(BaseModel):
    gsrn: str
    metering_point_type: str
    grid_area: str
    supplier_gln: str | None
    blocked: bool


class CustomerOut(BaseModel):
    """A customer DataHub has registered at an address: what a signup for it needs."""

    dar_id: uuid.UUID
    contact_type: str = Field(description="private (CPR) or business (CVR)")
    cpr_cvr: str = Field(description="the number DataHub expects (synthetic, valid)")
    name: str
    billing_street: str
    billing_house_number: str
    billing_postal_code: str
    billing_city: str
    email: str
    gsrn: str = Field(description="the consumption metering point to sign up")
    several_points: bool = Field(description="a signup must name gsrn")
    points: list[PointOut]


@get("/sim/customers", summary="Customers a newcomer can sign up (another supplier's, unblocked)")
async def customers(
    service: ServiceDep,
    limit: FromQuery[PageSize] = 10,
    after: FromQuery[uuid.UUID | None] = None,
) -> list[CustomerOut]:
    found = await market.customers(service.database, _settings(service), limit, after)
    return [
        CustomerOut(
            dar_id=c.dar_id,
            contact_type=c.contact_type,
            cpr_cvr=c.cpr_cvr,
            name=c.name,
            billing_street=c.street,
            billing_house_number=c.house_number,
            billing_postal_code=c.postcode,
            billing_city=c.city,
            email=c.email,
            gsrn=c.gsrn,
            several_points=c.several_points,
            points=[
                PointOut(
                    gsrn=p.gsrn,
                    metering_point_type=p.metering_point_type,
                    grid_area=p.grid_area,
                    supplier_gln=p.supplier_gln,
                    blocked=p.blocked,
                )
                for p in c.points
            ],
        )
        for c in found
    ]


@get(
    "/sim/portfolio-import.csv",
    media_type="text/csv",
    summary="The metering points we supply, as a portfolio import file (an old CIS's export)",
)
async def portfolio_import_file(
    service: ServiceDep, product: FromQuery[str] = "Spot"
) -> Response[str]:
    rows = await market.portfolio_import_rows(service.database, _settings(service), product)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=seeding.IMPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


ROUTES: list[Any] = [
    seed,
    customers,
    portfolio_import_file,
    market_summary,
    generated,
    address,
    metering_point,
    list_processes,
    switch,
]
