"""The simulator's HTTP API: DataHub's B2B endpoints and the ``/sim`` control endpoints."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field
from wattline_platform.inputs import SequenceId
from wattline_platform.openapi_problems import problems
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_simulator.domain import tokens
from wattline_simulator.domain.clock import ClockBackwards, NoClockMove
from wattline_simulator.domain.faults import (
    CATEGORIES,
    Answer,
    Fault,
    FaultKind,
    InvalidFault,
    broken_documents,
)
from wattline_simulator.handlers import clock, queue
from wattline_simulator.handlers import incoming as incoming_handler
from wattline_simulator.handlers.clock import CatchUp
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


class DataHubError(BaseModel):
    """DataHub's own error answer on its B2B API (a refused document, an injected failure)."""

    error: str


class Accepted(BaseModel):
    """DataHub took the document for processing (its answers come through the queues)."""

    status: Literal["accepted"] = "accepted"


def _failure(answer: Answer) -> Response[Any]:
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
    return Response(DataHubError(error=answer.reason), status_code=answer.status, headers=headers)


class TokenOut(BaseModel):
    """An OAuth 2.0 access token (RFC 6749 5.1) for DataHub's B2B API."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the OAuth token type, no secret)
    expires_in: int = Field(description="seconds")


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
) -> Response[TokenOut | OAuthError]:
    settings = _settings(service)
    if data.get("grant_type") != "client_credentials":
        return Response(OAuthError(error="unsupported_grant_type"), status_code=400)
    if (data.get("client_id"), data.get("client_secret")) != (
        settings.client_id,
        settings.client_secret,
    ):
        return Response(OAuthError(error="invalid_client"), status_code=401)
    expires_at = int(time.time()) + settings.token_ttl_s
    return Response(
        TokenOut(
            access_token=tokens.issue(settings.client_id, expires_at, settings.token_key.encode()),
            expires_in=settings.token_ttl_s,
        )
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
    answer = await queue.peek(service, category)
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
    if not await queue.dequeue(service, message_id):
        raise Problem(404, "unknown-message", "No such message in any queue", message_id)
    return Response(None, status_code=200)


@post(
    f"{CIM}/incomingMessages/{{document_type:str}}",
    status_code=202,
    summary="Receive a document from the supplier",
    responses={
        **problems(401),
        400: ResponseSpec(DataHubError, description="Not a CIM document DataHub accepts"),
    },
)
async def incoming(
    document_type: FromPath[str], request: Request[Any, Any, Any], service: ServiceDep
) -> Response[Accepted | DataHubError]:
    _authorise(request, service)
    reason = await incoming_handler.receive(
        service.database, _settings(service), document_type, await request.body()
    )
    if reason is not None:
        return Response(DataHubError(error=reason), status_code=400)
    return Response(Accepted(), status_code=202)


class QueuedOut(BaseModel):
    message_id: str


@post("/sim/messages/{category:str}", status_code=201, summary="Queue a raw document as given")
async def queue_raw(
    category: FromPath[str], request: Request[Any, Any, Any], service: ServiceDep
) -> QueuedOut:
    _category(category)
    document_type = request.headers.get("x-document-type", "raw")
    message_id = await queue.queue_raw(service, category, document_type, await request.body())
    return QueuedOut(message_id=message_id)


class ClockIn(BaseModel):
    advance_days: int | None = Field(default=None, ge=1, le=366)
    to: datetime | None = None


class ClockOut(BaseModel):
    now: str = Field(description="the simulated time (ISO 8601, UTC)")


class GeneratedDayOut(BaseModel):
    """A local day the clock move generated: documents and series queued per category."""

    local_date: str
    documents: dict[str, int]
    series: dict[str, int]
    duration_ms: int


class ClockMovedOut(BaseModel):
    now: str
    previous: str
    generated: list[GeneratedDayOut]


@get("/sim/clock", summary="The simulated time")
async def get_clock(service: ServiceDep) -> ClockOut:
    now = await clock.now(service.database, _settings(service))
    return ClockOut(now=now.isoformat())


@post("/sim/clock", status_code=200, summary="Move the simulated clock forward")
async def move_clock(
    data: JSONBody[ClockIn], service: ServiceDep, catch_up: NamedDependency[CatchUp]
) -> ClockMovedOut:
    try:
        moved = await clock.move(
            service.database, _settings(service), data.to, data.advance_days, catch_up
        )
    except NoClockMove:
        raise Problem(400, "invalid-clock", "Give advance_days or to") from None
    except ClockBackwards as exc:
        raise Problem(
            409, "clock-backwards", "The clock only moves forward", exc.now.isoformat()
        ) from None
    return ClockMovedOut(
        now=moved.now.isoformat(),
        previous=moved.previous.isoformat(),
        generated=[
            GeneratedDayOut(
                local_date=r.day.isoformat(),
                documents=r.documents,
                series=r.series,
                duration_ms=r.duration_ms,
            )
            for r in moved.generated
        ],
    )


class FaultIn(BaseModel):
    category: Literal["*", "MeasureData", "Aggregations", "MasterData", "Wholesale"] = "*"
    kind: FaultKind
    count: int = Field(
        default=1, ge=-1, description="calls (or broken documents); -1 = until cleared"
    )
    retry_after: int = Field(default=1, ge=0)
    delay_ms: int = Field(default=2000, ge=0)


class FaultInjectedOut(BaseModel):
    injected: FaultIn


@post("/sim/faults", status_code=201, summary="Inject a fault")
async def inject_fault(data: JSONBody[FaultIn], service: ServiceDep) -> FaultInjectedOut:
    fault = Fault(data.category, data.kind, data.count, data.retry_after, data.delay_ms)
    try:
        broken = broken_documents(fault)
    except InvalidFault as exc:
        raise Problem(400, "invalid-fault", str(exc)) from None
    await queue.inject(service, fault, broken)
    return FaultInjectedOut(injected=data)


class StatusOut(BaseModel):
    status: str


class ServedOut(BaseModel):
    """One answer the simulator served on a peek (or an injected failure)."""

    id: int
    message_id: str | None
    category: str
    status: int
    fault: str | None
    served_at: str


@delete("/sim/faults", status_code=200, summary="Clear every injected fault")
async def clear_faults(service: ServiceDep) -> StatusOut:
    await queue.clear_faults(service)
    return StatusOut(status="cleared")


@get("/sim/served", summary="The simulator's log of what it served")
async def served(service: ServiceDep, since: FromQuery[SequenceId] = 0) -> list[ServedOut]:
    return [
        ServedOut(**{**r, "served_at": r["served_at"].isoformat()})
        for r in await queue.served(service, since)
    ]


@get("/sim/queues", summary="Pending messages per category")
async def queues(service: ServiceDep) -> dict[str, int]:
    return await queue.depth(service)


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
