"""What a request's outcome events do to its status (pure)."""

from __future__ import annotations

import pytest
from wattline_reconciliation.domain.requests import status_after


@pytest.mark.parametrize(
    ("current", "outcome", "after"),
    [
        ("raised", "sent", "sent"),
        ("raised", "failed", "failed"),
        ("raised", "rejected", "rejected"),  # the rejection overtook datahub.request.sent
        ("sent", "rejected", "rejected"),
        ("sent", "sent", None),  # a redelivery
        ("rejected", "sent", None),  # late: a rejection is final
        ("failed", "sent", None),
        ("failed", "rejected", None),
        ("rejected", "failed", None),
    ],
)
def test_failed_and_rejected_are_final(current: str, outcome: str, after: str | None) -> None:
    assert status_after(current, outcome) == after  # type: ignore[arg-type]
