"""What a request may carry: bad input stops here as a 4xx problem+json, before any handler.

Three guards every service gets from :class:`~wattline_platform.service.Service`:

- :func:`refuse_nul_middleware`: a NUL (``%00``) in the path or the query string is a 400.
  PostgreSQL cannot store NUL in text (asyncpg raises), and no identifier, search or filter of
  ours contains one, so refusing it once here means no text parameter can carry it to SQL.
- :class:`BoundedRequest`: Litestar decodes every JSON ``data`` body through its ``json()``, so
  this is the one JSON decoder of all services: the media type must be JSON (else 415), the body
  at most :data:`MAX_JSON_BYTES` (else 413), valid UTF-8 and JSON, nested at most
  :data:`MAX_JSON_DEPTH` levels and without NUL in any string or key (else 400). The depth is
  measured without recursion, and msgspec's own recursion guard is caught, so no body can make
  a RecursionError.
- The annotated types below bound the numbers, dates and strings the APIs share. They carry
  ``annotated_types`` constraints, which both pydantic (body fields) and Litestar (query
  parameters) enforce and which the OpenAPI documents show as minimum/maximum/maxLength.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen
from litestar import Request
from litestar.exceptions import SerializationException
from litestar.params import Parameter
from litestar.serialization import decode_json
from litestar.types import ASGIApp, Empty, Receive, Scope, Send
from pydantic import AfterValidator, Field, StringConstraints

from wattline_platform.business_days import (
    FIRST_SUPPORTED_DATE,
    LAST_SUPPORTED_DATE,
    is_supported_date,
)
from wattline_platform.problem import Problem

MAX_JSON_BYTES = 1_048_576
"""Largest JSON request body (bytes); a route may allow more with ``opt={"max_json_bytes": n}``."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects in a JSON request body (ours need 3)."""

# -- query parameters -------------------------------------------------------------------
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 500

Page = Annotated[int, Ge(1), Le(MAX_PAGE)]
"""An offset page number, from 1."""
PageSize = Annotated[int, Ge(1), Le(MAX_PAGE_SIZE)]
"""Items per page (``page_size`` or ``limit``)."""
Offset = Annotated[int, Ge(0), Le(MAX_PAGE * MAX_PAGE_SIZE)]
"""Items to skip."""
# Litestar reads a query parameter's constraints only at the top of its annotation (not inside
# ``X | None``), so the optional ones are optional here.
Cursor = Annotated[str | None, MaxLen(200)]
"""An optional keyset cursor (``?after=``) as the previous page returned it."""
SearchText = Annotated[str | None, MaxLen(200)]
"""An optional free-text search or filter value."""
GsrnQuery = Annotated[str | None, Parameter(pattern=r"^[0-9]{18}$", description="18-digit GSRN")]
"""An optional metering point filter: a GSRN's 18 digits."""
SequenceId = Annotated[int, Ge(0), Le(2**63 - 1)]
"""A position in a bigint sequence (``?since=<id>``)."""
AfterId = Annotated[int | None, Ge(1), Le(2**63 - 1)]
"""An optional keyset cursor that is a row's bigint id (``?after=<id>``)."""

# -- body fields ------------------------------------------------------------------------
FIRST_DATE = FIRST_SUPPORTED_DATE
LAST_DATE = LAST_SUPPORTED_DATE

Int32 = Annotated[int, Ge(-(2**31)), Le(2**31 - 1)]
"""An integer a Postgres ``integer`` column holds."""


def _supported(day: date) -> date:
    if not is_supported_date(day):
        raise ValueError(f"dates from {FIRST_DATE} to {LAST_DATE} are supported")
    return day


def require_supported_dates(*days: date) -> None:
    """A 400 ``unsupported-date`` :class:`Problem` unless each of *days* is within the supported
    range: for date query parameters, whose bounds Litestar does not check (bodies use
    :data:`BusinessDate`)."""
    outside = [day for day in days if not is_supported_date(day)]
    if outside:
        raise Problem(
            400,
            "unsupported-date",
            "Date outside the supported range",
            f"{outside[0]}: dates from {FIRST_DATE} to {LAST_DATE} are supported",
        )


BusinessDate = Annotated[
    date,
    AfterValidator(_supported),
    Field(description=f"a date from {FIRST_DATE} to {LAST_DATE}"),
]
"""A business date within the range Wattline supports (prices, calendars and DataHub's)."""

PERIOD_PATTERN = r"^(20[0-9][0-9]|2100)-(0[1-9]|1[0-2])$"
# StringConstraints, not Field(pattern=): Litestar's OpenAPI shows only the former's pattern.
BillingPeriod = Annotated[
    str, StringConstraints(pattern=PERIOD_PATTERN), Field(description="YYYY-MM")
]
"""A billing month ``YYYY-MM`` from 2000-01 to 2100-12 in a body."""
PeriodQuery = Annotated[str | None, Parameter(pattern=PERIOD_PATTERN, description="YYYY-MM")]
"""An optional billing month as a query parameter (Litestar reads its own constraints there)."""

Kwh = Annotated[Decimal, Ge(0), Le(Decimal("1e9")), Field(decimal_places=3)]
"""An energy quantity in kWh (``numeric(14,3)``); a billion kWh is far beyond any metering
point's year."""

DkkPerKwh = Annotated[Decimal, Ge(-100), Le(100), Field(decimal_places=6)]
"""A price or rate per kWh in DKK (``numeric(18,6)``); day-ahead prices are capped far below
100 DKK/kWh, so anything beyond is a typo."""

DkkPerMonth = Annotated[Decimal, Ge(0), Le(100_000), Field(decimal_places=6)]
"""A monthly subscription in DKK."""


# -- the JSON body decoder --------------------------------------------------------------
def _bad_json(detail: str) -> Problem:
    return Problem(400, "invalid-json", "The body is not acceptable JSON", detail)


def check_json(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise a 400 :class:`Problem` when decoded JSON *value* nests deeper than *max_depth* or
    has a NUL in a string or an object key (iteratively: no recursion however deep)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _bad_json("strings must not contain NUL (\\u0000)")
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise _bad_json(f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def decode_json_body(
    body: bytes,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    type_decoders: Any = None,
) -> Any:
    """*body* decoded as JSON within the bounds, or a 413/400 :class:`Problem` saying why.

    For handlers that read a JSON file from the raw body themselves (an uploaded price file).
    """
    if len(body) > max_bytes:
        raise Problem(
            413, "body-too-large", "The body is too large", f"at most {max_bytes} bytes",
            max_bytes=max_bytes,
        )  # fmt: skip
    try:
        value = decode_json(body or b"null", type_decoders=type_decoders)
    except UnicodeDecodeError:
        raise _bad_json("the body is not valid UTF-8") from None
    except RecursionError:
        raise _bad_json(f"nested deeper than {max_depth} levels") from None
    except SerializationException as exc:
        raise _bad_json(str(exc)[:200]) from None
    check_json(value, max_depth)
    return value


def is_json_media_type(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/<anything>+json``, UTF-8 if a charset
    is named."""
    media_type, _, params = (content_type or "").partition(";")
    kind = media_type.strip().lower()
    if not (
        kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))
    ):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


class BoundedRequest(Request[Any, Any, Any]):
    """A Litestar request whose JSON body is decoded by :func:`decode_json_body`, and only
    when it is sent as JSON (415 otherwise)."""

    async def json(self) -> Any:
        if self._json is Empty:
            content_type = self.headers.get("content-type")
            if not is_json_media_type(content_type):
                raise Problem(
                    415,
                    "unsupported-media-type",
                    "Send the body as application/json (UTF-8)",
                    f"got {content_type or 'no content-type'}",
                )
            opt = self.route_handler.opt
            self._json = self._connection_state.json = decode_json_body(
                await self.body(),
                max_bytes=int(opt.get("max_json_bytes", MAX_JSON_BYTES)),
                type_decoders=self.route_handler.resolve_type_decoders(),
            )
        return self._json


# -- NUL in the path and the query string -----------------------------------------------
def _has_nul(scope: Scope) -> bool:
    # %00 is the only encoding of NUL (a %2500 is the text "%00"); the path arrives decoded.
    query = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


def refuse_nul_middleware(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: 400 ``invalid-character`` for a NUL in the path or query string."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):  # type: ignore[comparison-overlap]
            raise Problem(
                400,
                "invalid-character",
                "The request contains a NUL character",
                "no path segment or query parameter may contain %00",
            )
        await app(scope, receive, send)

    return middleware


__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "AfterId",
    "BillingPeriod",
    "BoundedRequest",
    "BusinessDate",
    "Cursor",
    "DkkPerKwh",
    "DkkPerMonth",
    "GsrnQuery",
    "Int32",
    "Kwh",
    "Offset",
    "Page",
    "PageSize",
    "PeriodQuery",
    "SearchText",
    "SequenceId",
    "check_json",
    "decode_json_body",
    "is_json_media_type",
    "refuse_nul_middleware",
    "require_supported_dates",
]
