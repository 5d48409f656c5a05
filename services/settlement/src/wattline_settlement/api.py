"""Settlement HTTP API: thin controllers, each answering with its typed model from
:mod:`wattline_settlement.models`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from wattline_platform.identifiers import is_valid_gsrn
from wattline_platform.inputs import (
    Page,
    PageSize,
    PeriodQuery,
)
from wattline_platform.problem import Problem, uuid_or_404
from wattline_platform.service import ServiceDep

from wattline_settlement.domain import invoiced
from wattline_settlement.handlers import elvarme, queries, runs
from wattline_settlement.handlers import invoiced as invoicing
from wattline_settlement.models import (
    AdjustmentPage,
    CorrectionOut,
    Elvarme,
    ElvarmeIn,
    MarkedInvoiced,
    MarkInvoicedIn,
    MeteringPointSettlements,
    ReducedElectricityTax,
    ReducedTaxIn,
    RunIn,
    SettledPeriod,
    SettlementMeteringPoint,
    SettlementMeteringPointCounts,
    SettlementOut,
    SettlementPage,
    SettlementRun,
    SettlementRunDetail,
    SettlementRunPage,
    SettlementWithCorrections,
    UninvoicedPage,
)

RunStatus = Literal["waiting", "queued", "running", "completed", "blocked", "failed"]


class MeteringPointController(Controller):
    path = "/api/settlement/metering-points"
    tags = ["settlement"]

    @get("/", summary="How many metering points and master-data versions settlement holds")
    async def summary(self, service: ServiceDep) -> SettlementMeteringPointCounts:
        return SettlementMeteringPointCounts(
            **await queries.metering_point_counts(service.database)
        )

    @get("/{gsrn:str}", summary="Settlement's view of a metering point's master data")
    async def fetch(self, gsrn: FromPath[str], service: ServiceDep) -> SettlementMeteringPoint:
        mp = await queries.metering_point(service.database, gsrn)
        if mp is None:
            raise Problem(404, "metering-point-not-found", "Unknown metering point", gsrn)
        return SettlementMeteringPoint(**mp)


GridAreaQuery = Annotated[str | None, Parameter(pattern=r"^[0-9]{3}$", description="grid area")]


def _page(page: int, page_size: int) -> tuple[int, int]:
    """LIMIT and OFFSET of a page (both bounded by their parameter types)."""
    return page_size, (page - 1) * page_size


def _run(row: Any) -> SettlementRun:
    return SettlementRun.model_validate(runs.run_view(row))


def _settlement(row: Any) -> SettlementOut:
    return SettlementOut.model_validate(runs.settlement_view(row))


class RunController(Controller):
    path = "/api/settlement/runs"
    tags = ["settlement"]

    @post("/", status_code=202, summary="Start a settlement run for a billing period")
    async def start(self, data: JSONBody[RunIn], service: ServiceDep) -> SettlementRun:
        run_id = await runs.start_run(service, data.period, data.grid_area, "api")
        assert run_id is not None
        row = await queries.run(service.database, run_id)
        assert row is not None
        return _run(row)

    @get("/", summary="Runs by billing period, grid area and status")
    async def list_runs(
        self,
        service: ServiceDep,
        period: FromQuery[PeriodQuery] = None,
        grid_area: FromQuery[GridAreaQuery] = None,
        status: FromQuery[RunStatus | None] = None,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 100,
    ) -> SettlementRunPage:
        limit, offset = _page(page, page_size)
        total, rows = await queries.runs(service.database, period, grid_area, status, limit, offset)
        return SettlementRunPage(
            items=[_run(r) for r in rows], total=total, page=page, page_size=page_size
        )

    @get("/{run_id:str}", summary="A run with its progress (and what it could not settle)")
    async def detail(self, run_id: FromPath[str], service: ServiceDep) -> SettlementRunDetail:
        key = uuid_or_404(run_id, "run")
        try:
            row, blocked = await queries.run_detail(service.database, key)
        except queries.NoSuchRun:
            raise Problem(404, "run-not-found", "No such run", run_id) from None
        return SettlementRunDetail.model_validate(
            {**runs.run_view(row), "blocked": [dict(b) for b in blocked]}
        )

    @get("/{run_id:str}/lines", summary="The settlements a run made, with their lines")
    async def lines(
        self,
        run_id: FromPath[str],
        service: ServiceDep,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 100,
    ) -> SettlementPage:
        key = uuid_or_404(run_id, "run")
        limit, offset = _page(page, page_size)
        try:
            total, rows = await queries.settlements_of_run(service.database, key, limit, offset)
        except queries.NoSuchRun:
            raise Problem(404, "run-not-found", "No such run", run_id) from None
        return SettlementPage(
            items=[_settlement(r) for r in rows], total=total, page=page, page_size=page_size
        )


@get(
    "/api/settlement/metering-points/{gsrn:str}/settlements",
    tags=["settlement"],
    summary="A metering point's settlements and their corrections",
)
async def metering_point_settlements(
    gsrn: FromPath[str], service: ServiceDep
) -> MeteringPointSettlements:
    rows, corrections = await queries.settlements_of_metering_point(service.database, gsrn)
    by_settlement: dict[str, list[CorrectionOut]] = {}
    for c in corrections:
        by_settlement.setdefault(str(c["settlement_id"]), []).append(_correction(c))
    return MeteringPointSettlements(
        gsrn=gsrn,
        settlements=[
            SettlementWithCorrections.model_validate(
                {
                    **runs.settlement_view(r),
                    "corrections": by_settlement.get(str(r["settlement_id"]), []),
                }
            )
            for r in rows
        ],
    )


def _correction(row: Any) -> CorrectionOut:
    return CorrectionOut(
        correction_id=str(row["correction_id"]),
        settlement_id=str(row["settlement_id"]),
        reason=row["reason"],
        period=SettledPeriod(start=row["period_start"], end=row["period_end"]),
        consumption_kwh=str(row["consumption_kwh"]),
        lines=row["lines"],
        subtotal=str(row["subtotal"]),
        vat=str(row["vat"]),
        total=str(row["total"]),
        invoice_id=row["invoice_id"],
        invoiced_at=None if row["invoiced_at"] is None else row["invoiced_at"].isoformat(),
        created_at=row["created_at"].isoformat(),
    )


class ExportController(Controller):
    """What ERP and invoicing pick up: settlements and adjustments not yet invoiced."""

    path = "/api/settlements"
    tags = ["settlement export"]

    @get("/uninvoiced", summary="Settlements and corrections not yet marked invoiced")
    async def uninvoiced(
        self, service: ServiceDep, page: FromQuery[Page] = 1, page_size: FromQuery[PageSize] = 100
    ) -> UninvoicedPage:
        limit, offset = _page(page, page_size)
        rows, corrections = await queries.uninvoiced(service.database, limit, offset)
        return UninvoicedPage(
            settlements=[_settlement(r) for r in rows],
            adjustments=[_correction(c) for c in corrections],
            page=page,
            page_size=page_size,
        )

    @get("/adjustments", summary="Corrections (deltas) to earlier settlements")
    async def adjustments(
        self,
        service: ServiceDep,
        invoiced: FromQuery[bool | None] = None,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 100,
    ) -> AdjustmentPage:
        limit, offset = _page(page, page_size)
        rows = await queries.corrections(service.database, invoiced, limit, offset)
        return AdjustmentPage(items=[_correction(r) for r in rows], page=page, page_size=page_size)

    @post("/{item_id:str}/mark-invoiced", status_code=200, summary="Mark as invoiced")
    async def mark_invoiced(
        self, item_id: FromPath[str], data: JSONBody[MarkInvoicedIn], service: ServiceDep
    ) -> MarkedInvoiced:
        key = uuid_or_404(item_id, "settlement")
        try:
            kind = await invoicing.mark_invoiced(service.database, key, data.invoice_id)
        except invoiced.NoSuchItem:
            raise Problem(
                404, "settlement-not-found", "No such settlement or adjustment", item_id
            ) from None
        except invoiced.AlreadyInvoiced as exc:
            raise Problem(
                409,
                "already-invoiced",
                "Already invoiced on another invoice",
                f"{item_id} is on invoice {exc.invoice_id}",
            ) from None
        return MarkedInvoiced.model_validate(
            {"id": item_id, "invoice_id": data.invoice_id, "kind": kind}
        )


@put(
    "/api/settlement/metering-points/{gsrn:str}/elvarme",
    tags=["settlement"],
    summary="Register electric heating (reduced electricity tax above the yearly threshold)",
)
async def register_elvarme(
    gsrn: FromPath[str], data: JSONBody[ElvarmeIn], service: ServiceDep
) -> Elvarme:
    if not is_valid_gsrn(gsrn):
        raise Problem(400, "invalid-gsrn", "Invalid GSRN", gsrn)
    await elvarme.register_elvarme(
        service.database, gsrn, data.from_date, data.consumed_kwh_before, data.threshold_kwh
    )
    return Elvarme(gsrn=gsrn, **data.model_dump())


@put(
    "/api/settlement/reduced-electricity-tax",
    tags=["settlement"],
    summary="The reduced electricity tax rate (elvarme) from a date",
)
async def reduced_tax(data: JSONBody[ReducedTaxIn], service: ServiceDep) -> ReducedElectricityTax:
    await elvarme.set_reduced_tax(service.database, data.valid_from, data.dkk_per_kwh)
    return ReducedElectricityTax(**data.model_dump())


ROUTES: list[Any] = [
    register_elvarme,
    reduced_tax,
    MeteringPointController,
    RunController,
    metering_point_settlements,
    ExportController,
]
