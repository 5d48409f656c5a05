"""The errors an operation answers, written into the OpenAPI documents.

Every error is RFC 9457 problem+json (:mod:`wattline_platform.problem`), and an integrator's
generated client should know which statuses each operation can answer. Most of them follow
from what serves the operation, not from the operation itself, so they are added here once
rather than on every route:

- a service answers 400 for a request that fails validation, 401 for an ``/api`` request
  without the gateway's identity, 404 when a path names something that does not exist, 413 and
  415 for a body too large or of another type, 409 and 422 when a change conflicts with the
  current state or the domain refuses it (:func:`service_statuses`);
- the gateway adds what it answers before or instead of the service: a missing or wrong key
  (401), a missing scope (403), a rate limit (429, with ``Retry-After``), a service that is
  down or too slow (502, 503, 504) (:func:`gateway_statuses`).

An operation answering another error (a 422 on a read, say) declares it on its route with
``responses=problems(422)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from litestar import Request
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from pydantic import BaseModel, ConfigDict

from wattline_platform import identity
from wattline_platform.problem import PROBLEM_JSON

WRITES = frozenset({"post", "put", "patch", "delete"})
METHODS = frozenset({"get", "head", "options", "trace", *WRITES})

REASONS = {
    400: "Invalid request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported content type",
    422: "Refused by the domain's rules",
    429: "Too many requests (see Retry-After)",
    502: "The owning service is unreachable",
    503: "The owning service is unavailable",
    504: "The owning service did not answer in time",
}


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: a stable ``type`` per error; extensions as the error has them."""

    model_config = ConfigDict(extra="allow", title="ProblemDetails")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


SCHEMA_NAME = "ProblemDetails"
SCHEMA_REF = {"$ref": f"#/components/schemas/{SCHEMA_NAME}"}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """``responses=`` for a route answering *statuses* beyond what every route answers."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            media_type=PROBLEM_JSON,
            description=REASONS.get(status, "Error"),
            generate_examples=False,
        )
        for status in statuses
    }


IdentityRequired = Callable[[str, str], bool]


def service_statuses(
    path: str,
    method: str,
    operation: Mapping[str, Any],
    requires_identity: IdentityRequired = identity.api_paths,
) -> set[int]:
    """What a service itself may answer to *operation* besides its documented success
    (401 where *requires_identity*, the service's own rule, says so)."""
    statuses = {400}
    if requires_identity(method.upper(), path):
        statuses.add(401)
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        statuses.add(404)
    if method in WRITES:
        statuses |= {409, 422}
    if "requestBody" in operation:
        statuses |= {413, 415}
    return statuses


def gateway_statuses(
    path: str,
    method: str,
    operation: Mapping[str, Any],
    requires_identity: IdentityRequired = identity.no_paths,
) -> set[int]:
    """What the gateway may answer to *operation* on its way to (or instead of) the service."""
    statuses = {400, 401, 403, 429, 502, 503, 504}
    if "requestBody" in operation:
        statuses.add(413)
    return statuses


def document_problems(
    doc: dict[str, Any],
    *,
    gateway: bool = False,
    requires_identity: IdentityRequired = identity.api_paths,
) -> dict[str, Any]:
    """*doc* with problem+json responses added to every operation (a copy; idempotent).

    Litestar's own 400 (a ``{status_code, detail}`` JSON body it never sends here: the
    platform's handler answers problem+json) is replaced; what a route declares is kept.
    """
    doc = copy.deepcopy(doc)
    doc.setdefault("components", {}).setdefault("schemas", {})[SCHEMA_NAME] = (
        ProblemDetails.model_json_schema()
    )
    statuses_of = gateway_statuses if gateway else service_statuses
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses_of(path, method, operation, requires_identity)):
                existing = responses.get(str(status), {}).get("content", {})
                if existing and not _litestars_own(existing):
                    continue  # the route's: problem+json, or what its protocol answers
                responses[str(status)] = {
                    "description": REASONS[status],
                    "content": {PROBLEM_JSON: {"schema": SCHEMA_REF}},
                }
                if status == 429:
                    responses[str(status)]["headers"] = {
                        "Retry-After": {
                            "description": "seconds to wait before trying again",
                            "schema": {"type": "integer", "minimum": 0},
                        }
                    }
    return doc


def _litestars_own(content: Mapping[str, Any]) -> bool:
    """Litestar's automatic 400 (its ValidationException body, never sent here)."""
    schema = content.get("application/json", {}).get("schema", {})
    return len(content) == 1 and schema.get("description") == "Validation Exception"


class ProblemDocumentingJsonPlugin(JsonRenderPlugin):
    """A service's ``/schema/openapi.json`` with :func:`service_statuses` documented."""

    def __init__(self, requires_identity: IdentityRequired = identity.api_paths) -> None:
        super().__init__()
        self.requires_identity = requires_identity

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        documented = document_problems(openapi_schema, requires_identity=self.requires_identity)
        return super().render(request, documented)


__all__ = [
    "ProblemDetails",
    "ProblemDocumentingJsonPlugin",
    "document_problems",
    "gateway_statuses",
    "problems",
    "service_statuses",
]
