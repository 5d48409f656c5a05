"""Files sent as a request body (a portfolio import, a payment file): the media type they must
have and a size bound checked while reading, both answered as problem+json."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

from wattline_platform.problem import Problem


def file_body(*media_types: str) -> type[Operation]:
    """``operation_class=`` for a route reading its body as a file of *media_types*: the
    OpenAPI document shows the body (Litestar sees none in a handler taking ``request``)."""

    @dataclass
    class FileUpload(Operation):
        def __post_init__(self) -> None:
            binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            self.request_body = RequestBody(
                content={t: OpenAPIMediaType(schema=binary) for t in media_types}, required=True
            )

    return FileUpload


def require_media_type(
    content_type: str | None, accepted: Iterable[str], *, utf8: bool = True
) -> None:
    """415 ``unsupported-media-type`` unless *content_type* is one of *accepted* (e.g.
    ``text/csv``) with no charset or a UTF-8 one (any charset when not *utf8*: a format
    that fixes its own, like Betalingsservice's Latin-1)."""
    wanted = tuple(accepted)
    media_type, _, params = (content_type or "").partition(";")
    charset = next(
        (v.strip().strip('"').lower() for k, _, v in (x.partition("=") for x in params.split(";"))
         if k.strip().lower() == "charset"),
        "utf-8",
    )  # fmt: skip
    if media_type.strip().lower() not in wanted or (utf8 and charset not in ("utf-8", "utf8")):
        raise Problem(
            415,
            "unsupported-media-type",
            f"Send the file as {' or '.join(wanted)}" + (" (UTF-8)" if utf8 else ""),
            f"got {content_type or 'no content-type'}",
        )


async def read_bounded(
    request: Request[Any, Any, Any], limit: int, kind: str = "file-too-large"
) -> bytes:
    """The request body, refused (413 *kind*) as soon as it is longer than *limit* bytes."""
    too_large = Problem(
        413, kind, "The file is too large", f"at most {limit} bytes", max_bytes=limit
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
