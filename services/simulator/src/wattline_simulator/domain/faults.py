"""Fault injection rules: which injected fault answers a call, and what it answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

CATEGORIES = ("MeasureData", "Aggregations", "MasterData", "Wholesale")

# Faults that replace the answer to a call (seed 000 A2).
RESPONSE_FAULTS = ("unauthorized", "unavailable", "throttled", "down", "slow")
# Faults that change what is queued or served rather than the HTTP status.
QUEUE_FAULTS = (
    "malformed",
    "schema_invalid",
    "duplicate",
    "aggregation_deviation",
    "wholesale_deviation",
)
# Queue faults applied when the daily generation builds documents, not when injected:
# ``aggregation_deviation`` (count = how many RSM-014 grid-area documents) adds
# AGGREGATION_DEVIATION_WH to one position of an aggregate, so it no longer equals the sum of
# the RSM-012 values sent. ``wholesale_deviation`` (count = how many RSM-019 documents, one
# per grid area, in grid-area order) adds WHOLESALE_DEVIATION_DKK to the first amount of
# Energinet's transmission tariff (WHOLESALE_DEVIATION_CHARGE_ID) in a grid area's month: its
# amounts are exact (kWh x a 3-decimal price), so reconciliation finds exactly that amount.
GENERATION_FAULTS = ("aggregation_deviation", "wholesale_deviation")
AGGREGATION_DEVIATION_WH = 1000  # +1.000 kWh
WHOLESALE_DEVIATION_DKK = Decimal("12.34")
WHOLESALE_DEVIATION_CHARGE_ID = "40000"
# The category a generation fault's documents are queued in (and the fault injected on).
GENERATION_CATEGORY = {"aggregation_deviation": "Aggregations", "wholesale_deviation": "Wholesale"}
FaultKind = Literal[
    "unauthorized",
    "unavailable",
    "throttled",
    "down",
    "slow",
    "malformed",
    "schema_invalid",
    "duplicate",
    "aggregation_deviation",
    "wholesale_deviation",
]


@dataclass(frozen=True)
class Fault:
    """An injected fault on a category (``*`` for every category)."""

    category: str
    kind: str
    remaining: int  # -1: until cleared
    retry_after: int = 1
    delay_ms: int = 0

    def applies_to(self, category: str) -> bool:
        return self.remaining != 0 and self.category in ("*", category)


@dataclass(frozen=True)
class Answer:
    """What a faulty call gets instead of the normal answer."""

    status: int
    reason: str
    retry_after: int | None = None


def answer_for(fault: Fault) -> Answer | None:
    """The HTTP answer an active response fault gives (None for ``slow``: answer, but late)."""
    if fault.kind == "unauthorized":
        return Answer(401, "token revoked")
    if fault.kind in ("unavailable", "down"):
        return Answer(503, "service unavailable")
    if fault.kind == "throttled":
        return Answer(429, "too many requests", retry_after=fault.retry_after)
    return None


def pick(faults: list[Fault], category: str) -> Fault | None:
    """The response fault that governs the next call on *category*, most severe first."""
    order = {kind: i for i, kind in enumerate(RESPONSE_FAULTS)}
    active = [f for f in faults if f.kind in order and f.applies_to(category)]
    return min(active, key=lambda f: order[f.kind], default=None)


def generation_fault(faults: list[Fault], kind: str, category: str) -> Fault | None:
    """The active generation fault of *kind* on *category* (a category's own before ``*``)."""
    active = [f for f in faults if f.kind == kind and f.applies_to(category)]
    return min(active, key=lambda f: f.category == "*", default=None)


def budget(fault: Fault | None, wanted: int) -> int:
    """How many of *wanted* documents a fault may still break (-1 remaining: all)."""
    if fault is None:
        return 0
    return wanted if fault.remaining < 0 else min(wanted, fault.remaining)


class InvalidFault(ValueError):
    """A fault that cannot be injected as asked (its message says why)."""


MALFORMED = b'{"NotifyValidatedMeasureData_MarketDocument": {"mRID": "broken", '


def schema_invalid_document() -> bytes:
    """A measure-data document with the right root but a body no schema accepts."""
    return json.dumps(
        {
            "NotifyValidatedMeasureData_MarketDocument": {
                "mRID": "schema-invalid",
                "type": {"value": "E66"},
                "Series": "not a list",
            }
        }
    ).encode()


def broken_documents(fault: Fault) -> list[bytes]:
    """The broken documents a queue fault puts in its queue at once (none for the others).

    Raises ``InvalidFault`` for a generation fault on a category it does not generate, and
    for broken documents without a category or a count.
    """
    kind, category = fault.kind, fault.category
    if kind in GENERATION_FAULTS and category not in ("*", GENERATION_CATEGORY[kind]):
        raise InvalidFault(f"{kind} applies to {GENERATION_CATEGORY[kind]}")
    if kind in QUEUE_FAULTS and kind not in ("duplicate", *GENERATION_FAULTS):
        if category == "*" or fault.remaining < 1:
            raise InvalidFault("Broken documents need a category and a count")
        if kind == "malformed":
            return [MALFORMED] * fault.remaining
        return [schema_invalid_document() for _ in range(fault.remaining)]
    return []
