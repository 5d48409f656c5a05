"""``GET /api/audit``: the audit trail, served by the gateway itself, for keys holding
``audit:read`` (or ``admin``). Thin: typed query in, ``handlers.audit_trail``, typed page out."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from litestar import Request, get
from litestar.params import QueryParameter
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.inputs import FIRST_DATE, LAST_DATE, PageSize, SearchText
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_gateway import handlers
from wattline_gateway.adapters.api_keys import StoredKey
from wattline_gateway.domain import api_keys

if TYPE_CHECKING:
    from wattline_gateway.api import Gateway

PATH = "/api/audit"
FIRST_SEGMENT = "audit"  # neither a service's name nor an alias may be this


class AuditEntry(BaseModel):
    """One state-changing call through the gateway."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(description="position in the trail; newer calls have higher ids")
    at: datetime = Field(description="when the gateway received the call (UTC)")
    key_id: str = Field(description="id of the API key that made it")
    key_name: str = Field(description="name of that key")
    method: Literal["POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(description="the path as received (percent-encoded), no query string")
    target: str | None = Field(
        description="the decoded path after /api/<first segment>/ (the target's id); "
        "null for the collection itself"
    )
    correlation_id: str = Field(description="the call's X-Correlation-ID, as in every log line")
    status: int | None = Field(
        description="the status the caller was answered; null: unknown (still in flight, or "
        "the gateway stopped before the answer)"
    )


class AuditPage(BaseModel):
    """Newest first."""

    model_config = ConfigDict(frozen=True)

    items: list[AuditEntry]
    next_after: int | None = Field(description="pass as ?after= for the next (older) page")


def _audit_reader(key: StoredKey) -> str | None:
    # Back office only: a key bound to a sales channel would see every other channel's calls.
    if key.channel is not None:
        return "a back-office key (it is bound to a channel)"
    return None if api_keys.allows(key.scopes, FIRST_SEGMENT, "GET") else "audit:read"


def routes(gateway: Gateway) -> list[Any]:
    """The audit trail's route handlers, authenticating through *gateway*."""

    @get(
        PATH,
        summary="The audit trail of state-changing calls",
        description=(
            "Every POST, PUT, PATCH and DELETE forwarded by the gateway: who (key), when, "
            "method, path, target and outcome; no query strings or bodies. Needs audit:read."
        ),
        tags=["audit"],
        operation_id="auditTrail",
    )
    async def audit_trail(
        request: Request[Any, Any, Any],
        service: ServiceDep,
        target: Annotated[
            SearchText, QueryParameter(description="a target's id: it, and everything under it")
        ] = None,
        key: Annotated[SearchText, QueryParameter(description="an API key's name or id")] = None,
        since: Annotated[
            datetime | None, QueryParameter(name="from", description="calls at or after (UTC)")
        ] = None,
        until: Annotated[
            datetime | None, QueryParameter(name="to", description="calls before (UTC)")
        ] = None,
        after: Annotated[
            int | None,
            QueryParameter(ge=1, le=2**63 - 1, description="next_after of the last page"),
        ] = None,
        limit: PageSize = 100,
    ) -> AuditPage:
        await gateway.admit(service, request, _audit_reader)
        for name, moment in (("from", since), ("to", until)):
            # Also keeps a year-1 time east of UTC (year 0 in UTC) away from the driver.
            if moment is not None and not FIRST_DATE <= moment.date() <= LAST_DATE:
                raise Problem(
                    400,
                    "validation-error",
                    "Invalid request",
                    f"{name}: times from {FIRST_DATE} to {LAST_DATE} are supported",
                )
        entries, next_after = await handlers.audit_trail(
            service.database,
            handlers.AuditQuery(limit, after, target, key, since, until),
        )
        return AuditPage(
            items=[AuditEntry.model_validate(entry, from_attributes=True) for entry in entries],
            next_after=next_after,
        )

    return [audit_trail]
