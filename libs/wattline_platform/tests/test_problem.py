"""problem+json at the edge: a 429 tells HTTP clients when to come back."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from wattline_platform.problem import EXCEPTION_HANDLERS, Problem, uuid_or_404


@get("/limited/{wait:str}")
async def limited(wait: FromPath[str]) -> None:
    raise Problem(429, "rate-limited", "Too many requests", retry_after=float(wait))


@get("/gone")
async def gone() -> None:
    raise Problem(404, "not-found", "No such thing")


async def test_retry_after_is_a_header_in_whole_seconds_rounded_up() -> None:
    app = Litestar([limited, gone], exception_handlers=EXCEPTION_HANDLERS)
    async with AsyncTestClient(app=app) as client:
        answer = await client.get("/limited/2.2")
        assert answer.status_code == 429
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == "3"
        assert answer.json()["retry_after"] == 2.2
        assert (await client.get("/limited/1")).headers["retry-after"] == "1"
        assert "retry-after" not in (await client.get("/gone")).headers


def test_a_path_id_that_is_no_uuid_is_a_404_naming_what_was_asked_for() -> None:
    ok = "0b9e4c1e-8f0a-4c39-9d55-0d6f6b1b8a11"
    assert str(uuid_or_404(ok, "invoice")) == ok
    with pytest.raises(Problem) as caught:
        uuid_or_404("nope", "invoice")
    assert (caught.value.status, caught.value.type, caught.value.title) == (
        404,
        "invoice-not-found",
        "No such invoice",
    )
    assert caught.value.detail == "nope"
    with pytest.raises(Problem) as cut:
        uuid_or_404("x" * 150, "webhook", detail_limit=100)
    assert cut.value.detail == "x" * 100
