"""Settlement HTTP API."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from annotated_types import Ge
from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.identifiers import is_valid_gsrn
from wattline_platform.inputs import (
    BillingPeriod,
    BusinessDate,
    DkkPerKwh,
    Kwh,
    Page,
    PageSize,
    PeriodQuery,
)
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_settlement import runs
from wattline_settlement.adapters import metering_points
from wattline_settlement.adapters import runs as run_store


class MeteringPointController(Controller):
    path = "/api/settlement/metering-points"
    tags = ["settlement"]

    @get("/", summary="How many metering points and master-data versions settlement holds")
    async def summary(self, service: ServiceDep) -> dict[str, int]:
        async with service.database.connection() as conn:
            return await metering_points.stats(conn)

    @get("/{gsrn:str}", summary="Settlement's view of a metering point's master data")
    async def fetch(self, gsrn: FromPath[str], service: ServiceDep) -> dict[str, Any]:
        async with service.database.connection() as conn:
            mp = await metering_points.get(conn, gsrn)
        if mp is None:
            raise Problem(404, "metering-point-not-found", "Unknown metering point", gsrn)
        return mp


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: BillingPeriod = Field(description="billing period YYYY-MM")
    grid_area: str | None = Field(default=None, pattern=r"^[0-9]{3}$")


class MarkInvoicedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_id: str = Field(min_length=1, max_length=100)


RunStatus = Literal["waiting", "queued", "running", "completed", "blocked", "failed"]
GridAreaQuery = Annotated[str | None, Parameter(pattern=r"^[0-9]{3}$", description="grid area")]


def _page(page: int, page_size: int) -> tuple[int, int]:
    """LIMIT and OFFSET of a page (both bounded by their parameter types)."""
    return page_size, (page - 1) * page_size


def _run_id(value: str, what: str = "run") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Problem(404, f"{what}-not-found", f"No such {what}", value) from None


class RunController(Controller):
    path = "/api/settlement/runs"
    tags = ["settlement"]

    @post("/", status_code=202, summary="Start a settlement run for a billing period")
    async def start(self, data: JSONBody[RunIn], service: ServiceDep) -> dict[str, Any]:
        run_id = await runs.start_run(service, data.period, data.grid_area, "api")
        assert run_id is not None
        async with service.database.connection() as conn:
            row = await conn.fetchrow("SELECT * FROM settlement_run WHERE run_id = $1", run_id)
        assert row is not None
        return runs.run_view(row)

    @get("/", summary="Runs by billing period, grid area and status")
    async def list_runs(
        self,
        service: ServiceDep,
        period: FromQuery[PeriodQuery] = None,
        grid_area: FromQuery[GridAreaQuery] = None,
        status: FromQuery[RunStatus | None] = None,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 100,
    ) -> dict[str, Any]:
        limit, offset = _page(page, page_size)
        async with service.database.connection() as conn:
            where = """WHERE ($1::text IS NULL OR billing_period = $1)
                         AND ($2::text IS NULL OR grid_area = $2)
                         AND ($3::text IS NULL OR status = $3)"""
            total = await conn.fetchval(
                f"SELECT count(*) FROM settlement_run {where}", period, grid_area, status
            )
            rows = await conn.fetch(
                f"""SELECT * FROM settlement_run {where}
                    ORDER BY requested_at DESC LIMIT $4 OFFSET $5""",
                period,
                grid_area,
                status,
                limit,
                offset,
            )
        return {
            "items": [runs.run_view(r) for r in rows],
            "total": total,
            "page": page,
            "page_size": page_size,
        }

    @get("/{run_id:str}", summary="A run with its progress (and what it could not settle)")
    async def detail(self, run_id: FromPath[str], service: ServiceDep) -> dict[str, Any]:
        key = _run_id(run_id)
        async with service.database.connection() as conn:
            row = await conn.fetchrow("SELECT * FROM settlement_run WHERE run_id = $1", key)
            if row is None:
                raise Problem(404, "run-not-found", "No such run", run_id)
            blocked = await conn.fetch(
                "SELECT gsrn, reason FROM settlement_blocked WHERE run_id = $1 ORDER BY gsrn "
                "LIMIT 100",
                key,
            )
        return {**runs.run_view(row), "blocked": [dict(b) for b in blocked]}

    @get("/{run_id:str}/lines", summary="The settlements a run made, with their lines")
    async def lines(
        self,
        run_id: FromPath[str],
        service: ServiceDep,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 100,
    ) -> dict[str, Any]:
        key = _run_id(run_id)
        limit, offset = _page(page, page_size)
        async with service.database.connection() as conn:
            if await conn.fetchval("SELECT 1 FROM settlement_run WHERE run_id = $1", key) is None:
                raise Problem(404, "run-not-found", "No such run", run_id)
            total = await conn.fetchval("SELECT count(*) FROM settlement WHERE run_id = $1", key)
            rows = await conn.fetch(
                "SELECT * FROM settlement WHERE run_id = $1 ORDER BY gsrn, period_start "
                "LIMIT $2 OFFSET $3",
                key,
                limit,
                offset,
            )
        return {
            "items": [runs.settlement_view(r) for r in rows],
            "total": total,
            "page": page,
            "page_size": page_size,
        }


@get(
    "/api/settlement/metering-points/{gsrn:str}/settlements",
    tags=["settlement"],
    summary="A metering point's settlements and their corrections",
)
async def metering_point_settlements(gsrn: FromPath[str], service: ServiceDep) -> dict[str, Any]:
    async with service.database.connection() as conn:
        rows = await conn.fetch(
            "SELECT * FROM settlement WHERE gsrn = $1 ORDER BY period_start", gsrn
        )
        corrections = await conn.fetch(
            """SELECT c.* FROM settlement_correction c JOIN settlement s USING (settlement_id)
               WHERE s.gsrn = $1 ORDER BY c.created_at""",
            gsrn,
        )
    by_settlement: dict[str, list[dict[str, Any]]] = {}
    for c in corrections:
        by_settlement.setdefault(str(c["settlement_id"]), []).append(_correction_view(c))
    return {
        "gsrn": gsrn,
        "settlements": [
            {
                **runs.settlement_view(r),
                "corrections": by_settlement.get(str(r["settlement_id"]), []),
            }
            for r in rows
        ],
    }


def _correction_view(row: Any) -> dict[str, Any]:
    return {
        "correction_id": str(row["correction_id"]),
        "settlement_id": str(row["settlement_id"]),
        "reason": row["reason"],
        "period": {"start": row["period_start"].isoformat(), "end": row["period_end"].isoformat()},
        "consumption_kwh": str(row["consumption_kwh"]),
        "lines": row["lines"],
        "subtotal": str(row["subtotal"]),
        "vat": str(row["vat"]),
        "total": str(row["total"]),
        "invoice_id": row["invoice_id"],
        "invoiced_at": None if row["invoiced_at"] is None else row["invoiced_at"].isoformat(),
        "created_at": row["created_at"].isoformat(),
    }


class ExportController(Controller):
    """What ERP and invoicing pick up: settlements and adjustments not yet invoiced."""

    path = "/api/settlements"
    tags = ["settlement export"]

    @get("/uninvoiced", summary="Settlements and corrections not yet marked invoiced")
    async def uninvoiced(
        self, service: ServiceDep, page: FromQuery[Page] = 1, page_size: FromQuery[PageSize] = 100
    ) -> dict[str, Any]:
        limit, offset = _page(page, page_size)
        async with service.database.connection() as conn:
            rows = await conn.fetch(
                """SELECT * FROM settlement WHERE invoiced_at IS NULL
                   ORDER BY created_at, settlement_id LIMIT $1 OFFSET $2""",
                limit,
                offset,
            )
            # A correction that changes no line's amount (money moved between two charges of
            # a line) is nothing to invoice: invoicing bills nothing for it, so it would never
            # be marked and would stay here for ever.
            corrections = await conn.fetch(
                """SELECT * FROM settlement_correction c WHERE invoiced_at IS NULL
                     AND EXISTS (SELECT 1 FROM jsonb_array_elements(c.lines) l
                                 WHERE (l->>'amount')::numeric <> 0)
                   ORDER BY created_at, correction_id LIMIT $1 OFFSET $2""",
                limit,
                offset,
            )
        return {
            "settlements": [runs.settlement_view(r) for r in rows],
            "adjustments": [_correction_view(c) for c in corrections],
            "page": page,
            "page_size": page_size,
        }

    @get("/adjustments", summary="Corrections (deltas) to earlier settlements")
    async def adjustments(
        self,
        service: ServiceDep,
        invoiced: FromQuery[bool | None] = None,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 100,
    ) -> dict[str, Any]:
        limit, offset = _page(page, page_size)
        async with service.database.connection() as conn:
            rows = await conn.fetch(
                """SELECT * FROM settlement_correction
                   WHERE $1::boolean IS NULL OR (invoiced_at IS NOT NULL) = $1
                   ORDER BY created_at, correction_id LIMIT $2 OFFSET $3""",
                invoiced,
                limit,
                offset,
            )
        return {"items": [_correction_view(r) for r in rows], "page": page, "page_size": page_size}

    @post("/{item_id:str}/mark-invoiced", status_code=200, summary="Mark as invoiced")
    async def mark_invoiced(
        self, item_id: FromPath[str], data: JSONBody[MarkInvoicedIn], service: ServiceDep
    ) -> dict[str, Any]:
        key = _run_id(item_id, "settlement")
        async with service.database.transaction() as tx:
            for table, column in (
                ("settlement", "settlement_id"),
                ("settlement_correction", "correction_id"),
            ):
                row = await tx.fetchrow(
                    f"SELECT invoice_id FROM {table} WHERE {column} = $1 FOR UPDATE", key
                )
                if row is None:
                    continue
                if row["invoice_id"] not in (None, data.invoice_id):
                    raise Problem(
                        409,
                        "already-invoiced",
                        "Already invoiced on another invoice",
                        f"{item_id} is on invoice {row['invoice_id']}",
                    )
                await tx.execute(
                    f"""UPDATE {table} SET invoice_id = $2,
                            invoiced_at = coalesce(invoiced_at, now()) WHERE {column} = $1""",
                    key,
                    data.invoice_id,
                )
                return {"id": item_id, "invoice_id": data.invoice_id, "kind": table}
        raise Problem(404, "settlement-not-found", "No such settlement or adjustment", item_id)


class ElvarmeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_date: BusinessDate
    consumed_kwh_before: Kwh = Field(
        default=Decimal(0), description="kWh counted in from_date's year"
    )
    threshold_kwh: Kwh = Decimal(4000)


class ReducedTaxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_from: BusinessDate
    dkk_per_kwh: Annotated[DkkPerKwh, Ge(0)]


@put(
    "/api/settlement/metering-points/{gsrn:str}/elvarme",
    tags=["settlement"],
    summary="Register electric heating (reduced electricity tax above the yearly threshold)",
)
async def register_elvarme(
    gsrn: FromPath[str], data: JSONBody[ElvarmeIn], service: ServiceDep
) -> dict[str, Any]:
    if not is_valid_gsrn(gsrn):
        raise Problem(400, "invalid-gsrn", "Invalid GSRN", gsrn)
    async with service.database.transaction() as tx:
        await tx.execute(
            """INSERT INTO elvarme (gsrn, from_date, opening_kwh, threshold_kwh)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (gsrn) DO UPDATE SET from_date = $2, opening_kwh = $3,
                   threshold_kwh = $4, updated_at = now()""",
            gsrn,
            data.from_date,
            data.consumed_kwh_before,
            data.threshold_kwh,
        )
        # Elvarme is master data: settled periods may change.
        await run_store.queue_recheck(tx, [gsrn], "master_data_changed")
    return {"gsrn": gsrn, **data.model_dump(mode="json")}


@put(
    "/api/settlement/reduced-electricity-tax",
    tags=["settlement"],
    summary="The reduced electricity tax rate (elvarme) from a date",
)
async def reduced_tax(data: JSONBody[ReducedTaxIn], service: ServiceDep) -> dict[str, Any]:
    async with service.database.transaction() as tx:
        await tx.execute(
            """INSERT INTO reduced_electricity_tax (valid_from, dkk_per_kwh) VALUES ($1, $2)
               ON CONFLICT (valid_from) DO UPDATE SET dkk_per_kwh = $2""",
            data.valid_from,
            data.dkk_per_kwh,
        )
    return data.model_dump(mode="json")


ROUTES: list[Any] = [
    register_elvarme,
    reduced_tax,
    MeteringPointController,
    RunController,
    metering_point_settlements,
    ExportController,
]
