"""A DataHub message is followed by one correlation id: every event it brings carries the
same one (and the consumers log under it), and another message has its own."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from wattline_platform.logging import correlation_id_var

if TYPE_CHECKING:
    from conftest import Rig


async def test_each_datahub_message_has_one_correlation_id_for_all_its_events(rig: Rig) -> None:
    first = await rig.queue("MeasureData", "rsm012-validated-measure-data-pt1h-2025-01-15.json")
    second = await rig.queue("MasterData", "rsm034-notify-price-list-prices.json")
    assert [r.outcome for r in await rig.drain("MeasureData")] == ["stored"]
    assert [r.outcome for r in await rig.drain("MasterData")] == ["stored"]
    assert correlation_id_var.get() is None  # not left behind for the next message

    by_message: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    rows = await rig.service.database.fetch(
        "SELECT envelope->>'correlation_id' AS cid, envelope FROM outbox ORDER BY id"
    )
    for row in rows:
        message = first if "measure_data" in row["envelope"] else second
        by_message[message].add(row["cid"])
        counts[message] += 1
    assert counts[second] > 1, counts  # the price list brings several events
    assert all(len(ids) == 1 for ids in by_message.values()), by_message
    assert by_message[first].isdisjoint(by_message[second])
