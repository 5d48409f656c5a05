"""Energi Data Service offline: ``GET /dataset/{Elspotprices|DayAheadPrices}``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from wattline_cim import dumps
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_simulator.domain import spot
from wattline_simulator.handlers import clock
from wattline_simulator.settings import SimulatorSettings


@get("/dataset/{dataset:str}", summary="EDS dataset records (synthetic day-ahead prices)")
async def dataset(
    dataset: FromPath[str], request: Request[Any, Any, Any], service: ServiceDep
) -> Response[bytes]:
    found = spot.DATASETS.get(dataset)
    if found is None:
        raise Problem(
            404, "unknown-dataset", "No such dataset", f"use one of {list(spot.DATASETS)}"
        )
    settings = service.settings
    assert isinstance(settings, SimulatorSettings)
    now = await clock.now(service.database, settings)
    params = {key: value for key, value in request.query_params.items()}
    try:
        query = spot.parse_query(found, params, now)
    except spot.QueryError as exc:
        raise Problem(400, "invalid-query", "Invalid dataset query", str(exc)) from None
    # wattline_cim.dumps writes Decimals as exact JSON numbers (msgspec would quote them).
    return Response(dumps(spot.answer(found, query)), media_type="application/json")


ROUTES: list[Any] = [dataset]
