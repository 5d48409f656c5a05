"""Schemathesis hooks for test_fuzz_api: the check that every error is problem+json.

Loaded by the `schemathesis run` the test starts (``SCHEMATHESIS_HOOKS=fuzz_checks``).
"""

from __future__ import annotations

from typing import Any

import schemathesis

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_json_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx answer is an RFC 9457 problem document."""
    if response.status_code < 400:
        return None
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
