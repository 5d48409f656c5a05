"""Schemathesis hooks for test_fuzz_api: the check that every error is problem+json, (with
``FUZZ_IDENTITY_KEY`` set) the gateway's identity on every request and (with
``FUZZ_PORTAL_GSRN`` set) a real metering point of the portal token's customer in about half of
the requests that name one.

Loaded by the `schemathesis run` the test starts (``SCHEMATHESIS_HOOKS=fuzz_checks``).
"""

from __future__ import annotations

import collections
import os
from typing import Any

import schemathesis
from wattline_platform import identity

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_json_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx answer is an RFC 9457 problem document, unless the operation
    documents another media type for that status (an OAuth token endpoint's errors)."""
    if response.status_code < 400:
        return None
    documented = case.operation.definition.raw.get("responses", {}).get(
        str(response.status_code), {}
    )
    if documented.get("content") and PROBLEM_JSON not in documented["content"]:
        return None  # response_schema_conformance checks it against what is documented
    content_type = next(iter(response.headers.get("content-type", [])), "")
    if not content_type.startswith(PROBLEM_JSON):
        raise AssertionError(
            f"{response.status_code} answered as {content_type or 'no content type'!r}, "
            f"not {PROBLEM_JSON}"
        )
    body = response.json()
    if not (isinstance(body, dict) and body.get("status") == response.status_code):
        raise AssertionError(f"the problem's status is not {response.status_code}: {body!r}")
    return None


IDENTITY_KEY_ENV = "FUZZ_IDENTITY_KEY"

if os.environ.get(IDENTITY_KEY_ENV):

    @schemathesis.auth(refresh_interval=10)  # tokens live a minute: always a fresh one
    class GatewayIdentity:
        """The gateway's signed identity (an admin's), for a run straight at a service."""

        def get(self, case: Any, ctx: Any) -> str:
            caller = identity.Identity("fuzz", "fuzz", frozenset({"admin"}))
            return identity.sign(caller, os.environ[IDENTITY_KEY_ENV])

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), identity.IDENTITY_HEADER: data}


PORTAL_GSRN_ENV = "FUZZ_PORTAL_GSRN"

if os.environ.get(PORTAL_GSRN_ENV):
    _calls: collections.Counter[str] = collections.Counter()

    @schemathesis.hook
    def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
        """The customer's own GSRN instead of the generated one in every other case of an
        operation (its cases run in order on one worker, so a run repeats): random GSRNs are
        all 404, and the hostile dates and resolutions must reach the code that reads a
        metering point's data."""
        params = case.path_parameters
        if params and "gsrn" in params:
            _calls[case.operation.label] += 1
            if _calls[case.operation.label] % 2:
                params["gsrn"] = os.environ[PORTAL_GSRN_ENV]
