"""Peek split from parse (issue 17): received messages are shared by parse workers, and a
category's messages are still committed in the order DataHub served them, whichever worker
parses first, whichever worker dies. Against real PostgreSQL; a "worker" is
``inbound.parse_next`` on the service's pool, a killed one a session that claimed a message
and vanished without a rollback."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import asyncpg
from wattline_cim import dumps
from wattline_datahub.adapters import inbound_messages
from wattline_datahub.bootstrap import SPEC
from wattline_datahub.handlers import inbound
from wattline_datahub.handlers.parsing import Understanding, in_thread
from wattline_platform import migrations
from wattline_platform.testing import SchemaFactory

from .test_partial_days import ROOT, _hours, _kwh, _measure_events, _subsystem_message

if TYPE_CHECKING:
    from conftest import Rig


def _rest_of_the_day() -> bytes:
    """The 18 hours after Energinet's six of 29 June 2024 (the subsystem message): merged
    over them when it comes second, published as 18 hours with six missing when first."""
    rest = _subsystem_message()
    series = rest[ROOT]["Series"][0]
    series["mRID"] = "t-2"
    series["Period"]["timeInterval"] = {
        "start": {"value": "2024-06-29T04:00Z"},
        "end": {"value": "2024-06-29T22:00Z"},
    }
    series["Period"]["Point"] = _hours(list(range(100, 118)))
    return dumps(rest)


FIRST_SIX = [242, 242, 222, 202, 191, None]


async def _statuses(rig: Rig) -> dict[str, str]:
    rows = await rig.service.database.fetch("SELECT message_id, status FROM inbound_messages")
    return {r["message_id"]: r["status"] for r in rows}


def _assert_merged_in_arrival_order(events: list[dict[str, Any]]) -> None:
    first, second = events
    assert first["transaction_id"] == "t-1" and first["quantities_kwh"][6:] == [None] * 18
    assert second["transaction_id"] == "t-2"
    assert _kwh(second["quantities_kwh"]) == [*FIRST_SIX, *range(100, 118)]


async def test_two_workers_share_a_category_and_commit_it_in_arrival_order(rig: Rig) -> None:
    # Given two messages of one category, the second filling the day the first began
    for message_id, raw in (("m-1", dumps(_subsystem_message())), ("m-2", _rest_of_the_day())):
        assert (await inbound.receive(rig.service, "MeasureData", message_id, raw)).outcome == (
            "received"
        )
    # When one worker is slow on m-1 and the other parses m-2 first
    parsed_order: list[str] = []
    m2_parsed = asyncio.Event()

    async def parse(raw: bytes, message_id: str) -> Understanding:
        if message_id == "m-1":
            await m2_parsed.wait()
        understanding = await in_thread(raw, message_id)
        parsed_order.append(message_id)
        if message_id == "m-2":
            m2_parsed.set()
        return understanding

    one, two = await asyncio.wait_for(
        asyncio.gather(
            inbound.parse_next(rig.service, parse), inbound.parse_next(rig.service, parse)
        ),
        timeout=20,
    )
    # Then each worker took one, m-2 waited for m-1's commit, and merged over it
    assert parsed_order == ["m-2", "m-1"]
    assert sorted(p.message_id for p in (one or []) + (two or [])) == ["m-1", "m-2"]
    assert len(one or []) == len(two or []) == 1
    _assert_merged_in_arrival_order(await _measure_events(rig))
    assert await _statuses(rig) == {"m-1": "stored", "m-2": "stored"}
    assert await inbound.parse_next(rig.service) is None


async def test_a_killed_workers_message_is_taken_over_by_the_one_waiting_for_it(
    rig: Rig, postgres_dsn: str
) -> None:
    await inbound.receive(rig.service, "MeasureData", "m-1", dumps(_subsystem_message()))
    await inbound.receive(rig.service, "MeasureData", "m-2", _rest_of_the_day())
    # Given a worker that claimed m-1 in its own session and is busy parsing it
    doomed = await asyncpg.connect(
        postgres_dsn, server_settings={"search_path": rig.service.database.schema}
    )
    tx = doomed.transaction()
    await tx.start()
    claimed = await inbound_messages.claim_next(doomed)
    assert claimed is not None and claimed["message_id"] == "m-1"
    # When another worker takes m-2 (it must wait for m-1) and the first one dies
    taker = asyncio.create_task(inbound.parse_next(rig.service))
    await asyncio.sleep(0.5)
    assert not taker.done()  # m-2 parsed, waiting for m-1
    doomed.terminate()  # the socket closes without a rollback, as a SIGKILL leaves it
    done = await asyncio.wait_for(taker, timeout=20)
    # Then the waiting worker committed m-1, then m-2, each once
    assert [p.message_id for p in done or []] == ["m-1", "m-2"]
    _assert_merged_in_arrival_order(await _measure_events(rig))
    assert await _statuses(rig) == {"m-1": "stored", "m-2": "stored"}
    assert await inbound.parse_next(rig.service) is None


async def test_a_malformed_message_is_dead_lettered_and_the_next_one_still_committed(
    rig: Rig,
) -> None:
    await inbound.receive(rig.service, "MeasureData", "bad", b'{"NotifyValidated": [')
    await inbound.receive(rig.service, "MeasureData", "good", dumps(_subsystem_message()))
    results = await asyncio.wait_for(
        asyncio.gather(inbound.parse_next(rig.service), inbound.parse_next(rig.service)),
        timeout=20,
    )
    outcomes = {p.message_id: p.stored for r in results for p in r or []}
    assert outcomes["bad"].outcome == "dead_lettered" and "JSON" in (outcomes["bad"].reason or "")
    assert (outcomes["good"].outcome, outcomes["good"].events) == ("stored", 1)
    [day] = await _measure_events(rig)
    assert _kwh(day["quantities_kwh"])[:6] == FIRST_SIX
    assert await _statuses(rig) == {"bad": "dead_lettered", "good": "stored"}


async def test_a_redelivery_before_or_after_parsing_changes_nothing(rig: Rig) -> None:
    raw = dumps(_subsystem_message())
    assert (await inbound.receive(rig.service, "MeasureData", "m-1", raw)).outcome == "received"
    assert (await inbound.receive(rig.service, "MeasureData", "m-1", raw)).outcome == "duplicate"
    [parsed] = await inbound.parse_next(rig.service) or []
    assert (parsed.message_id, parsed.stored.events) == ("m-1", 1)
    assert (await inbound.receive(rig.service, "MeasureData", "m-1", raw)).outcome == "duplicate"
    assert await inbound.parse_next(rig.service) is None
    assert len(await _measure_events(rig)) == 1


async def test_the_migration_keeps_a_populated_table_parsed(
    make_schema_db: SchemaFactory, postgres_dsn: str
) -> None:
    every = migrations.load(SPEC.migrations_dir, "service")
    before = [m for m in every if m.name < "service/0006"]
    db = await make_schema_db(before)
    await db.execute(
        """INSERT INTO inbound_messages (message_id, category, raw, status, events)
           VALUES ('old-1', 'MeasureData', '\\x7b7d', 'stored', 3),
                  ('old-2', 'MasterData', '\\x7b7d', 'dead_lettered', 0)"""
    )
    conn = await asyncpg.connect(postgres_dsn)
    try:
        platform = migrations.load(migrations.PLATFORM_SQL, "platform")
        applied = await migrations.apply(conn, db.schema, platform + every)
        assert applied == ["service/0006_peek_then_parse.sql"]
    finally:
        await conn.close()
    rows = await db.fetch("SELECT message_id, status, events, arrival FROM inbound_messages")
    assert {(r["message_id"], r["status"], r["events"]) for r in rows} == {
        ("old-1", "stored", 3),
        ("old-2", "dead_lettered", 0),
    }
    assert all(r["arrival"] is not None for r in rows)
    async with db.connection() as c:
        assert await inbound_messages.receive(c, "new-1", "MeasureData", b"{}")
        [new] = await c.fetch("SELECT arrival FROM inbound_messages WHERE message_id = 'new-1'")
        assert new["arrival"] > max(r["arrival"] for r in rows)
        claimed = await inbound_messages.claim_next(c)
        assert claimed is not None and claimed["message_id"] == "new-1"
