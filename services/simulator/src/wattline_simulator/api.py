"""The simulator's HTTP API: DataHub's B2B endpoints and the ``/sim`` control endpoints."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from litestar import Request, Response, delete, get, post
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field
from wattline_cim import (
    AggregationRequest,
    CancelRequest,
    ChangeOfSupplierRequest,
    CimDocument,
    CimError,
    MeasureDataRequest,
    WholesaleSettlementRequest,
    parse_document,
)
from wattline_platform.inputs import SequenceId
from wattline_platform.openapi_problems import problems
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_simulator import generation, handlers, processes, requests, wholesale
from wattline_simulator.adapters import market, store
from wattline_simulator.domain import tokens
from wattline_simulator.domain.faults import (
    CATEGORIES,
    GENERATION_CATEGORY,
    GENERATION_FAULTS,
    QUEUE_FAULTS,
    Answer,
    Fault,
    FaultKind,
)
from wattline_simulator.settings import SimulatorSettings

CIM = "/v1.0/cim"


def _settings(service: ServiceDep) -> SimulatorSettings:
    settings = service.settings
    assert isinstance(settings, SimulatorSettings)
    return settings


def _category(category: str) -> str:
    if category not in CATEGORIES:
        raise Problem(404, "unknown-category", "Unknown category", f"use one of {CATEGORIES}")
    return category


def _authorise(request: Request[Any, Any, Any], service: ServiceDep) -> str:
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    client = tokens.verify(token, int(time.time()), _settings(service).token_key.encode())
    if client is None:
        raise Problem(401, "invalid-token", "Missing, invalid or expired token")
    return client


def _failure(answer: Answer) -> Response[Any]:
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
    return Response({"error": answer.reason}, status_code=answer.status, headers=headers)


class OAuthError(BaseModel):
    """An OAuth 2.0 token endpoint's error (RFC 6749 5.2), as Azure AD answers DataHub's
    actors: not problem+json, which no OAuth client reads."""

    error: Literal["unsupported_grant_type", "invalid_client"]


OAUTH_ERRORS = {
    status: ResponseSpec(OAuthError, description=text, generate_examples=False)
    for status, text in ((400, "Not the client-credentials grant"), (401, "Unknown client"))
}


@post(
    "/oauth2/v2.0/token",
    status_code=200,
    summary="OAuth2 client-credentials token",
    responses=OAUTH_ERRORS,
)
async def token(
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    service: ServiceDep,
) -> Response[dict[str, Any]]:
    settings = _settings(service)
    if data.get("grant_type") != "client_credentials":
        return Response({"error": "unsupported_grant_type"}, status_code=400)
    if (data.get("client_id"), data.get("client_secret")) != (
        settings.client_id,
        settings.client_secret,
    ):
        return Response({"error": "invalid_client"}, status_code=401)
    expires_at = int(time.time()) + settings.token_ttl_s
    return Response(
        {
            "access_token": tokens.issue(
                settings.client_id, expires_at, settings.token_key.encode()
            ),
            "token_type": "Bearer",
            "expires_in": settings.token_ttl_s,
        }
    )


@get(
    f"{CIM}/peek/{{category:str}}",
    summary="Peek the oldest message of a category",
    responses=problems(401),  # DataHub's own OAuth token, not the gateway's identity
)
async def peek(
    category: FromPath[str], request: Request[Any, Any, Any], service: ServiceDep
) -> Response[Any]:
    _category(category)
    _authorise(request, service)
    answer = await handlers.peek(service, category)
    if answer.failure is not None:
        return _failure(answer.failure)
    if answer.status == 204:
        return Response(None, status_code=204)
    return Response(
        answer.body,
        media_type="application/json",
        headers={"MessageId": answer.message_id or "", "DocumentType": answer.document_type or ""},
    )


@delete(
    f"{CIM}/dequeue/{{message_id:str}}",
    status_code=200,
    summary="Dequeue a message",
    responses=problems(401),
)
async def dequeue(
    message_id: FromPath[str], request: Request[Any, Any, Any], service: ServiceDep
) -> Response[Any]:
    _authorise(request, service)
    if not await handlers.dequeue(service, message_id):
        raise Problem(404, "unknown-message", "No such message in any queue", message_id)
    return Response(None, status_code=200)


@post(
    f"{CIM}/incomingMessages/{{document_type:str}}",
    status_code=202,
    summary="Receive a document from the supplier",
    responses=problems(401),
)
async def incoming(
    document_type: FromPath[str], request: Request[Any, Any, Any], service: ServiceDep
) -> Response[Any]:
    _authorise(request, service)
    body = await request.body()
    reason = validate_incoming(body)
    doc: CimDocument | None = None
    if reason is None:
        try:
            doc = parse_document(body)
        except CimError as exc:
            reason = str(exc)
    settings = _settings(service)
    async with service.database.transaction() as tx:
        await store.record_incoming(tx, document_type, body, reason is None, reason)
        if isinstance(doc, ChangeOfSupplierRequest):
            now = await store.now(tx) or settings.start
            answer = await processes.answer_request(tx, doc, settings, now)
            if answer is not None and answer.accepted:
                # A move-in may be effective today or earlier: complete it at once.
                await processes.complete_due(tx, now, settings)
        elif isinstance(doc, CancelRequest):
            await processes.answer_cancel(tx, doc, await store.now(tx) or settings.start)
        elif isinstance(doc, MeasureDataRequest):
            now = await store.now(tx) or settings.start
            await requests.answer_measure_data(tx, doc, settings, now)
        elif isinstance(doc, AggregationRequest):
            now = await store.now(tx) or settings.start
            await requests.answer_aggregation(tx, doc, settings, now)
        elif isinstance(doc, WholesaleSettlementRequest):
            now = await store.now(tx) or settings.start
            await wholesale.answer_request(tx, doc, settings, now)
    if reason is not None:
        return Response({"error": reason}, status_code=400)
    return Response({"status": "accepted"}, status_code=202)


def validate_incoming(body: bytes) -> str | None:
    """Why DataHub would refuse *body* outright (None: accepted for processing)."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        return f"invalid JSON: {exc}"
    if not isinstance(doc, dict) or len(doc) != 1:
        return "a CIM document has exactly one root element"
    return None


@post("/sim/messages/{category:str}", status_code=201, summary="Queue a raw document as given")
async def queue_raw(
    category: FromPath[str], request: Request[Any, Any, Any], service: ServiceDep
) -> dict[str, str]:
    _category(category)
    body = await request.body()
    document_type = request.headers.get("x-document-type", "raw")
    async with service.database.transaction() as tx:
        message_id = await store.enqueue(tx, category, document_type, body)
    return {"message_id": message_id}


class ClockIn(BaseModel):
    advance_days: int | None = Field(default=None, ge=1, le=366)
    to: datetime | None = None


@get("/sim/clock", summary="The simulated time")
async def get_clock(service: ServiceDep) -> dict[str, Any]:
    async with service.database.connection() as conn:
        now = await store.now(conn)
    return {"now": (now or _settings(service).start).isoformat()}


@post("/sim/clock", status_code=200, summary="Move the simulated clock forward")
async def move_clock(data: JSONBody[ClockIn], service: ServiceDep) -> dict[str, Any]:
    async with service.database.transaction() as tx:
        now = await store.now(tx) or _settings(service).start
        if data.to is not None:
            target = data.to if data.to.tzinfo else data.to.replace(tzinfo=UTC)
        elif data.advance_days is not None:
            target = now + timedelta(days=data.advance_days)
        else:
            raise Problem(400, "invalid-clock", "Give advance_days or to")
        if target < now:
            raise Problem(409, "clock-backwards", "The clock only moves forward", now.isoformat())
        await store.set_now(tx, target)
    # Generate the days that have passed; processes effective by a day's start complete
    # before that day is generated, the rest once the clock has moved.
    settings = _settings(service)
    generated = await generation.catch_up(
        service.database, settings, before_day=processes.completer(settings)
    )
    async with service.database.transaction() as tx:
        await market.lock_generation(tx)
        await processes.complete_due(tx, target, settings)
    return {
        "now": target.isoformat(),
        "previous": now.isoformat(),
        "generated": [
            {
                "local_date": r.day.isoformat(),
                "documents": r.documents,
                "series": r.series,
                "duration_ms": r.duration_ms,
            }
            for r in generated
        ],
    }


class FaultIn(BaseModel):
    category: Literal["*", "MeasureData", "Aggregations", "MasterData", "Wholesale"] = "*"
    kind: FaultKind
    count: int = Field(
        default=1, ge=-1, description="calls (or broken documents); -1 = until cleared"
    )
    retry_after: int = Field(default=1, ge=0)
    delay_ms: int = Field(default=2000, ge=0)


MALFORMED = b'{"NotifyValidatedMeasureData_MarketDocument": {"mRID": "broken", '


@post("/sim/faults", status_code=201, summary="Inject a fault")
async def inject_fault(data: JSONBody[FaultIn], service: ServiceDep) -> dict[str, Any]:
    fault = Fault(data.category, data.kind, data.count, data.retry_after, data.delay_ms)
    broken: list[bytes] = []
    if data.kind in GENERATION_FAULTS and data.category not in (
        "*",
        GENERATION_CATEGORY[data.kind],
    ):
        raise Problem(
            400,
            "invalid-fault",
            f"{data.kind} applies to {GENERATION_CATEGORY[data.kind]}",
        )
    if data.kind in QUEUE_FAULTS and data.kind not in ("duplicate", *GENERATION_FAULTS):
        if data.category == "*" or data.count < 1:
            raise Problem(400, "invalid-fault", "Broken documents need a category and a count")
        broken = (
            [MALFORMED] * data.count
            if data.kind == "malformed"
            else [schema_invalid_document() for _ in range(data.count)]
        )
    await handlers.inject(service, fault, broken)
    return {"injected": data.model_dump()}


def schema_invalid_document() -> bytes:
    """A measure-data document with the right root but a body no schema accepts."""
    return json.dumps(
        {
            "NotifyValidatedMeasureData_MarketDocument": {
                "mRID": "schema-invalid",
                "type": {"value": "E66"},
                "Series": "not a list",
            }
        }
    ).encode()


@delete("/sim/faults", status_code=200, summary="Clear every injected fault")
async def clear_faults(service: ServiceDep) -> dict[str, str]:
    async with service.database.transaction() as tx:
        await store.clear_faults(tx)
    return {"status": "cleared"}


@get("/sim/served", summary="The simulator's log of what it served")
async def served(service: ServiceDep, since: FromQuery[SequenceId] = 0) -> list[dict[str, Any]]:
    async with service.database.connection() as conn:
        rows = await store.served_log(conn, since)
    return [{**dict(r), "served_at": r["served_at"].isoformat()} for r in rows]


@get("/sim/queues", summary="Pending messages per category")
async def queues(service: ServiceDep) -> dict[str, int]:
    async with service.database.connection() as conn:
        return await store.depth(conn)


ROUTES: list[Any] = [
    token,
    peek,
    dequeue,
    incoming,
    queue_raw,
    get_clock,
    move_clock,
    inject_fault,
    clear_faults,
    served,
    queues,
]
