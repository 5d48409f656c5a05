"""Retention of raw inbound messages, against real PostgreSQL: compressed after the period,
still readable, deleted only after the keeping time; dead letters stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError
from wattline_datahub.handlers import inbound
from wattline_datahub.handlers.retention import cut_offs, raw_message, retention_pass
from wattline_datahub.settings import DatahubSettings

if TYPE_CHECKING:
    from conftest import Rig

MEASURE = "rsm012-validated-measure-data-pt1h-2025-01-15.json"


async def _age(rig: Rig, message_id: str, days: int) -> None:
    await rig.service.database.execute(
        "UPDATE inbound_messages SET received_at = now() - make_interval(days => $2) "
        "WHERE message_id = $1",
        message_id,
        days,
    )


async def test_old_messages_are_compressed_readable_and_deleted_after_the_keeping_time(
    rig: Rig,
) -> None:
    old = await rig.queue("MeasureData", MEASURE)
    await rig.drain("MeasureData")
    fresh = await rig.queue("MeasureData", MEASURE)
    await rig.drain("MeasureData")
    sent = await raw_message(rig.service, old)
    assert sent is not None and b"571313199900000015" in sent
    await _age(rig, old, 40)
    cut = cut_offs(datetime.now(UTC), compress_after_days=30, keep_days=2192)

    first = await retention_pass(rig.service, cut, batch=100)

    assert (first.compressed, first.deleted) == (1, 0)
    row = await rig.service.database.fetchrow(
        "SELECT raw, length(raw_lzma) AS packed FROM inbound_messages WHERE message_id = $1", old
    )
    assert row["raw"] is None and 0 < row["packed"] < len(sent)
    assert await raw_message(rig.service, old) == sent  # byte for byte, as DataHub sent it
    fresh_row = await rig.service.database.fetchrow(
        "SELECT raw_lzma FROM inbound_messages WHERE message_id = $1", fresh
    )
    assert fresh_row["raw_lzma"] is None  # 0 days old: kept as sent
    assert (await retention_pass(rig.service, cut, batch=100)).compressed == 0  # nothing left

    await _age(rig, old, 2193)
    gone = await retention_pass(rig.service, cut, batch=100)
    assert gone.deleted == 1
    assert await raw_message(rig.service, old) is None
    assert await raw_message(rig.service, fresh) is not None


async def test_a_dead_letter_is_never_compressed_nor_deleted_and_still_retries(rig: Rig) -> None:
    await rig.sim.post("/sim/faults", json={"category": "MasterData", "kind": "schema_invalid"})
    [stored] = await rig.drain("MasterData")
    assert stored.outcome == "dead_lettered"
    [letter] = (await inbound.dead_letters(rig.service, 10, 0)).rows
    await _age(rig, letter["message_id"], 3000)
    cut = cut_offs(datetime.now(UTC), compress_after_days=30, keep_days=2192)
    done = await retention_pass(rig.service, cut, batch=100)
    assert (done.compressed, done.deleted) == (0, 0)
    assert await raw_message(rig.service, letter["message_id"]) is not None
    retried = await inbound.retry_dead_letter(rig.service, letter["message_id"])
    assert retried is not None and retried.outcome == "dead_lettered"  # parsed again, still bad


def test_keeping_shorter_than_compressing_is_refused() -> None:
    with pytest.raises(ValidationError, match="raw_keep_days"):
        DatahubSettings(raw_compress_after_days=60, raw_keep_days=30)
    with pytest.raises(ValueError, match="kept at least as long"):
        cut_offs(datetime.now(UTC), compress_after_days=60, keep_days=30)
    cut = cut_offs(datetime(2026, 1, 31, tzinfo=UTC), compress_after_days=30, keep_days=2192)
    assert cut.compress_before == datetime(2026, 1, 1, tzinfo=UTC)
    assert cut.delete_before == datetime(2026, 1, 31, tzinfo=UTC) - timedelta(days=2192)
