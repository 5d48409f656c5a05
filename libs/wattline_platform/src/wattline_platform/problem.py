"""RFC 9457 problem+json errors with a stable ``type`` per error."""

from __future__ import annotations

import math
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

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
    from wattline_platform.logging import get_logger

    get_logger("http").exception("unhandled_error", path=request.url.path)
    return problem_response(
        Problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal-error", "Internal server error"),
        request.url.path,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    Problem: _problem_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_handler,
    Exception: _unhandled_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "Problem", "problem_response"]
