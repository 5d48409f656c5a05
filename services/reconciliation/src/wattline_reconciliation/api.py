"""The reconciliation HTTP API: thin controllers, typed models in and out, domain errors mapped
to problem+json types here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from wattline_platform.business_days import is_supported_date
from wattline_platform.inputs import Cursor, PageSize, PeriodQuery
from wattline_platform.problem import Problem

from wattline_reconciliation.domain.energy import Status
from wattline_reconciliation.domain.requests import DataRequest, InvalidRequest
from wattline_reconciliation.domain.wholesale import ChargeKey
from wattline_reconciliation.handlers import Reconciliation, queries, requests, wholesale
from wattline_reconciliation.models import (
    DataRequestIn,
    DataRequestOut,
    DataRequestStatusOut,
    DayDetail,
    HourDetail,
    ResultPage,
    WholesaleDetail,
    WholesalePage,
)

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
GridAreaQuery = Annotated[
    str | None, Parameter(pattern=r"^[0-9]{3}$", description="3-digit grid area")
]


@asynccontextmanager
async def _problems() -> AsyncIterator[None]:
    try:
        yield
    except (queries.InvalidCursor, wholesale.InvalidCursor) as exc:
        raise Problem(400, "invalid-cursor", "Not a cursor this API handed out", str(exc)) from None
    except (queries.NotFound, wholesale.NotFound) as exc:
        raise Problem(404, "result-not-found", "No such reconciliation result", str(exc)) from None
    except InvalidRequest as exc:
        raise Problem(
            422, "invalid-request", "DataHub would refuse this request", str(exc)
        ) from None
    except requests.UnknownRequest as exc:
        raise Problem(404, "request-not-found", "No such request", str(exc)) from None


def _grid_area(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isdigit():
        raise Problem(404, "result-not-found", "No such reconciliation result", value[:20])
    return value


def _date(value: str) -> date:
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not is_supported_date(day):
        raise Problem(404, "result-not-found", "No such reconciliation result", value[:20])
    return day


def routes(rec: Reconciliation) -> list[Any]:
    """The reconciliation route handlers bound to *rec*."""

    class ResultController(Controller):
        path = "/api/reconciliation/results"
        tags = ["reconciliation"]

        @get("/", summary="Energy reconciliation per grid area and day (keyset: ?after=)")
        async def list_results(
            self,
            period: FromQuery[PeriodQuery] = None,
            grid_area: FromQuery[GridAreaQuery] = None,
            status: FromQuery[Status | None] = None,
            after: FromQuery[Cursor] = None,
            limit: FromQuery[PageSize] = 100,
        ) -> ResultPage:
            async with _problems():
                return await queries.results(
                    rec, period=period, grid_area=grid_area, status=status, after=after,
                    limit=limit,
                )  # fmt: skip

        @get("/{grid_area:str}/{local_date:str}", summary="A grid-area day hour by hour")
        async def day(self, grid_area: FromPath[str], local_date: FromPath[str]) -> DayDetail:
            async with _problems():
                return await queries.day(rec, _grid_area(grid_area), _date(local_date))

        @get(
            "/{grid_area:str}/{local_date:str}/hours/{position:int}",
            summary="The metering points that make up our side of one hour (from 0)",
        )
        async def hour(
            self, grid_area: FromPath[str], local_date: FromPath[str], position: FromPath[int]
        ) -> HourDetail:
            if not 0 <= position <= 24:
                raise Problem(404, "result-not-found", "No such reconciliation result", "no hour")
            async with _problems():
                return await queries.hour(rec, _grid_area(grid_area), _date(local_date), position)

    class RequestController(Controller):
        path = "/api/reconciliation/requests"
        tags = ["reconciliation"]

        @post(
            "/",
            status_code=202,
            summary="Ask DataHub for what is missing: RSM-016 (a grid area's totals), RSM-015 "
            "(a metering point's data) or RSM-017 (a grid area's wholesale settlement of a "
            "month); the datahub service sends it",
        )
        async def create(self, data: JSONBody[DataRequestIn]) -> DataRequestOut:
            async with _problems():
                request = DataRequest.of(
                    data.kind, start=data.start_date, end=data.end_date,
                    billing_period=data.billing_period, grid_area=data.grid_area,
                    gsrn=data.gsrn, metering_point_type=data.metering_point_type,
                )  # fmt: skip
                event = await requests.raise_request(rec, request)
            return DataRequestOut(**event.model_dump(include=set(DataRequestOut.model_fields)))

        @get("/{request_id:str}", summary="A request and what became of it")
        async def status(self, request_id: FromPath[str]) -> DataRequestStatusOut:
            async with _problems():
                return await requests.get_request(rec, request_id)

    class WholesaleController(Controller):
        path = "/api/reconciliation/wholesale"
        tags = ["reconciliation"]

        @get(
            "/",
            summary="Wholesale reconciliation per grid area, month and DataHub charge: RSM-019 "
            "against what our settlements billed (keyset: ?after=)",
        )
        async def list_wholesale(
            self,
            period: FromQuery[PeriodQuery] = None,
            grid_area: FromQuery[GridAreaQuery] = None,
            status: FromQuery[Status | None] = None,
            after: FromQuery[Cursor] = None,
            limit: FromQuery[PageSize] = 100,
        ) -> WholesalePage:
            async with _problems():
                return await wholesale.results(
                    rec, period=period, grid_area=grid_area, status=status, after=after,
                    limit=limit,
                )  # fmt: skip

        @get(
            "/{grid_area:str}/{period:str}/{owner_gln:str}/{charge_type:str}/{charge_id:str}",
            summary="One charge's month: DataHub's amount, ours, and each settlement's part",
        )
        async def charge(
            self,
            grid_area: FromPath[str],
            period: FromPath[str],
            owner_gln: FromPath[str],
            charge_type: FromPath[str],
            charge_id: FromPath[str],
        ) -> WholesaleDetail:
            if not _MONTH.fullmatch(period) or len(owner_gln) > 20 or len(charge_id) > 50:
                raise Problem(404, "result-not-found", "No such reconciliation result", period[:20])
            if charge_type not in ("D01", "D02", "D03") or "\x00" in charge_id + owner_gln:
                raise Problem(404, "result-not-found", "No such reconciliation result", "charge")
            async with _problems():
                return await wholesale.charge(
                    rec, _grid_area(grid_area), period,
                    ChargeKey(owner_gln, charge_type, charge_id),
                )  # fmt: skip

    return [ResultController, RequestController, WholesaleController]
