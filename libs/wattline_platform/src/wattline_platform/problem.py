"""RFC 9457 problem+json errors with a stable ``type`` per error."""

from __future__ import annotations

import math
import uuid
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://wattline.dev/problems/"


class Problem(Exception):
    """An error that the edge turns into a problem+json response."""

    def __init__(
        self,
        status: int,
        type_: str,
        title: str,
        detail: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        doc.update(self.extensions)
        return doc


def uuid_or_404(value: str, what: str, *, detail_limit: int | None = None) -> uuid.UUID:
    """The UUID a path names, or a 404 ``<what>-not-found`` problem ("No such <what>") when
    it is not one: nothing by that id can exist. The detail repeats *value*, cut to
    *detail_limit* characters when one is given."""
    try:
        return uuid.UUID(value)
    except ValueError:
        detail = value if detail_limit is None else value[:detail_limit]
        raise Problem(404, f"{what}-not-found", f"No such {what}", detail) from None


def problem_response(problem: Problem, instance: str | None = None) -> Response[Any]:
    """Render *problem* as an HTTP response.

    A ``retry_after`` extension (seconds) is also sent as the ``Retry-After`` header, which is
    what HTTP clients and proxies honour (RFC 9110 10.2.3); the body keeps it for people.
    """
    retry_after = problem.extensions.get("retry_after")
    return Response(
        content=problem.body(instance),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        # Whole seconds, rounded up: a client waiting less would only be refused again.
        headers={"retry-after": str(max(0, math.ceil(retry_after)))}
        if isinstance(retry_after, int | float)
        else None,
    )


def _problem_handler(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    return problem_response(exc, request.url.path)


def _validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return problem_response(
        Problem(400, "validation-error", "Invalid request", exc.detail, errors=exc.extra or []),
        request.url.path,
    )


def _http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    slug = "not-found" if isinstance(exc, NotFoundException) else f"http-{exc.status_code}"
    return problem_response(
        Problem(exc.status_code, slug, exc.detail or "HTTP error"), request.url.path
    )


def _unhandled_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The last resort: the stack goes to the log, the caller gets only the correlation id to
    # quote (the log line carries the same one), never the exception's text.
    from wattline_platform.logging import correlation_id_var, get_logger

    get_logger("http").error("unhandled_error", path=request.url.path, exc_info=exc)
    return problem_response(
        Problem(
            HTTP_500_INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal server error",
            correlation_id=correlation_id_var.get(),
        ),
        request.url.path,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    Problem: _problem_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_handler,
    Exception: _unhandled_handler,
}


async def send_exception(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """Answer *exc*, raised in a middleware (outside any route handler's own exception
    handling), exactly as :data:`EXCEPTION_HANDLERS` answer it in a handler."""
    request: Request[Any, Any, Any] = Request(scope, receive, send)
    handler = next(
        h for t, h in EXCEPTION_HANDLERS.items() if isinstance(t, type) and isinstance(exc, t)
    )
    response: Response[Any] = handler(request, exc)
    await response.to_asgi_response(None, request)(scope, receive, send)


__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "MediaType",
    "Problem",
    "problem_response",
    "send_exception",
]
