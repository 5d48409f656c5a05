"""Whatever DataHub's queue serves, the message is kept: stored with its events or
dead-lettered with a reason, in one committed transaction against real PostgreSQL, never an
exception that would leave it at the head of the queue to fail again for ever.

Hypothesis (derandomized) sends the reference examples with one hostile value each; the
named cases are those it found (NUL and lone surrogates, which PostgreSQL cannot store).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from wattline_cim.testing import LONE_SURROGATE, hostile_variants, load_examples, replaced, wire
from wattline_datahub.handlers import inbound

if TYPE_CHECKING:
    from conftest import Rig

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"
EXAMPLES = load_examples(FIXTURES)
RSM012 = "rsm012-validated-measure-data-pt1h-2025-01-15.json"
SERIES_ID = ("NotifyValidatedMeasureData_MarketDocument", "Series", 0, "mRID")
_ids = itertools.count()


async def kept(rig: Rig, raw: bytes) -> inbound.Stored:
    message_id = f"hostile-{next(_ids)}"
    result = await inbound.store_inbound(rig.service, "Timeseries", message_id, raw)
    row = await rig.service.database.fetchrow(
        "SELECT status, reason FROM inbound_messages WHERE message_id = $1", message_id
    )
    assert row is not None and row["status"] == result.outcome
    assert result.outcome == "stored" or result.reason
    return result


@settings(
    derandomize=True,
    deadline=None,
    max_examples=80,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one rig for all examples: ids never repeat
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(raw=hostile_variants(EXAMPLES))
async def test_any_message_is_stored_or_dead_lettered(rig: Rig, raw: bytes) -> None:
    await kept(rig, raw)


@pytest.mark.parametrize("value", ["T-1\x00", LONE_SURROGATE])
async def test_text_postgresql_cannot_store_is_dead_lettered(rig: Rig, value: str) -> None:
    result = await kept(rig, wire(replaced(EXAMPLES[RSM012], SERIES_ID, value)))
    assert result.outcome == "dead_lettered" and "malformed JSON" in (result.reason or "")
    assert await rig.outbox() == []
