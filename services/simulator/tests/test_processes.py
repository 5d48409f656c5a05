"""RSM-001 requests (BRS-001 change of supplier, BRS-009 move-in) answered by the market rules,
and what DataHub queues when the simulated clock passes the effective date."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from wattline_cim import (
    AccountingPointCharacteristics,
    CancelAnswer,
    CancelRequest,
    ChangeOfSupplierAnswer,
    ChangeOfSupplierRequest,
    GenericNotification,
    MeasureDataDocument,
    build_document,
    dumps,
    parse_document,
)
from wattline_platform.business_days import business_days_back, is_business_day
from wattline_platform.identifiers import gsrn_with_check_digit
from wattline_simulator.domain.market import OTHER_SUPPLIER_GLN
from wattline_simulator.domain.seeding import customer_id_for
from wattline_simulator.testing import Sim

CIM = "/v1.0/cim"
OURS = "5799994000015"
BRP = "5799994000022"
FEB_1 = datetime(2025, 1, 31, 23, tzinfo=UTC)  # local midnight starting 2025-02-01


async def _auth(sim: Sim) -> dict[str, str]:
    token = await sim.client.post(
        "/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "wattline",
            "client_secret": "dev-secret",
        },
    )
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _customer(sim: Sim, gsrn: str) -> tuple[str, str]:
    row = await sim.db.fetchrow("SELECT dar_id, profile FROM metering_point WHERE gsrn = $1", gsrn)
    return customer_id_for(row["dar_id"], business=row["profile"] == "business")


async def _request(
    sim: Sim,
    auth: dict[str, str],
    gsrn: str,
    start: datetime,
    *,
    process_type: str = "E03",
    customer: tuple[str, str] | None = None,
    sender: str = OURS,
    supplier: str = OURS,
) -> tuple[str, ChangeOfSupplierAnswer]:
    transaction_id = str(uuid.uuid4())
    request = ChangeOfSupplierRequest(
        message_id=str(uuid.uuid4()),
        sender_gln=sender,
        created=datetime(2025, 1, 1, tzinfo=UTC),
        process_type=process_type,
        transaction_id=transaction_id,
        gsrn=gsrn,
        effective_start=start,
        energy_supplier_gln=supplier,
        balance_responsible_gln=BRP,
        customer_scheme=None if customer is None else customer[0],
        customer_id=None if customer is None else customer[1],
    )
    before = await sim.db.fetchval("SELECT coalesce(max(seq), 0) FROM queue")
    posted = await sim.client.post(
        f"{CIM}/incomingMessages/RequestChangeOfSupplier",
        headers=auth,
        content=dumps(build_document(request)),
    )
    assert posted.status_code == 202, posted.text
    row = await sim.db.fetchrow(
        "SELECT body, document_type FROM queue WHERE category = 'MasterData' AND seq > $1"
        " ORDER BY seq LIMIT 1",
        before,
    )
    answer = parse_document(bytes(row["body"]))
    assert isinstance(answer, ChangeOfSupplierAnswer)
    expected_type = "Confirm" if answer.accepted else "Reject"
    assert row["document_type"] == f"{expected_type}RequestChangeOfSupplier"
    (tx,) = answer.transactions
    assert tx.original_transaction_id == transaction_id and tx.gsrn == gsrn
    assert answer.receiver_gln == sender and answer.process_type == process_type
    return transaction_id, answer


def _codes(answer: ChangeOfSupplierAnswer) -> list[str]:
    return [code for tx in answer.transactions for code, _ in tx.reasons]


async def _points(sim: Sim, supplier: str, n: int) -> list[str]:
    rows = await sim.db.fetch(
        "SELECT gsrn FROM metering_point WHERE supplier_gln = $1 AND NOT blocked"
        " AND metering_point_type = 'E17' ORDER BY gsrn LIMIT $2",
        supplier,
        n,
    )
    return [r["gsrn"] for r in rows]


async def _master_data(sim: Sim, after: int = 0) -> list[Any]:
    rows = await sim.db.fetch(
        "SELECT body FROM queue WHERE category = 'MasterData' AND seq > $1 ORDER BY seq", after
    )
    return [parse_document(bytes(r["body"])) for r in rows]


def test_danish_business_days() -> None:
    assert not is_business_day(date(2025, 1, 1))  # New Year's Day
    assert not is_business_day(date(2024, 12, 24))  # Christmas Eve, treated as closed
    assert is_business_day(date(2024, 12, 24), closed_eves=False)
    assert not is_business_day(date(2025, 4, 18))  # Good Friday
    assert not is_business_day(date(2025, 5, 29))  # Ascension Day
    assert not is_business_day(date(2025, 6, 9))  # Whit Monday
    assert is_business_day(date(2024, 4, 26))  # Store Bededag is no holiday from 2024
    assert not is_business_day(date(2023, 5, 5))  # ... but was in 2023
    # Wed 2025-01-01: Dec 31, 26, 25 and 24 closed: back to Thu 2024-12-19.
    assert business_days_back(date(2025, 1, 1), 5) == date(2024, 12, 19)


async def test_change_of_supplier_rejections(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 300, "seed": 1, "ours_share": 0.5})
    auth = await _auth(sim)
    theirs = await _points(sim, OTHER_SUPPLIER_GLN, 4)
    customer = await _customer(sim, theirs[0])

    unknown = gsrn_with_check_digit("57131999999999999")
    _, answer = await _request(sim, auth, unknown, FEB_1, customer=customer)
    assert not answer.accepted and _codes(answer) == ["E10"]
    _, answer = await _request(sim, auth, theirs[0], FEB_1, customer=customer, supplier=BRP)
    assert _codes(answer) == ["E16"]  # asks on behalf of another party
    _, answer = await _request(
        sim, auth, theirs[0], FEB_1, customer=customer, sender="5799994000039", supplier=BRP
    )
    assert _codes(answer) == ["E16"]  # the grid company is no supplier
    for start in (
        datetime(2025, 2, 1, 10, tzinfo=UTC),  # not a local midnight
        datetime(2024, 12, 31, 23, tzinfo=UTC),  # today: a change of supplier is ahead
        datetime(2026, 1, 31, 23, tzinfo=UTC),  # more than a year ahead
    ):
        _, answer = await _request(sim, auth, theirs[0], start, customer=customer)
        assert _codes(answer) == ["E17"]
    _, answer = await _request(sim, auth, theirs[0], FEB_1, customer=("VAT", "30000005"))
    assert _codes(answer) == ["D17"]
    _, answer = await _request(sim, auth, theirs[0], FEB_1)
    assert _codes(answer) == ["D17"]

    await sim.db.execute("UPDATE metering_point SET blocked = true WHERE gsrn = $1", theirs[1])
    blocked_customer = await _customer(sim, theirs[1])
    _, answer = await _request(sim, auth, theirs[1], FEB_1, customer=blocked_customer)
    assert _codes(answer) == ["E22"]

    _, first = await _request(sim, auth, theirs[0], FEB_1, customer=customer)
    assert first.accepted and first.transactions[0].process_reference
    _, second = await _request(sim, auth, theirs[0], FEB_1, customer=customer)
    assert _codes(second) == ["E22"]  # another process is open
    assert "open" in second.transactions[0].reasons[0][1]  # type: ignore[operator]

    listed = (await sim.client.get("/sim/processes")).json()
    assert [p["state"] for p in listed].count("open") == 1
    assert [p["reasons"] for p in listed if p["state"] == "rejected"] == [
        ["E10"],
        ["E16"],
        ["E16"],
        ["E17"],
        ["E17"],
        ["E17"],
        ["D17"],
        ["D17"],
        ["E22"],
        ["E22"],
    ]


async def test_change_of_supplier_completes_on_the_effective_date(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 200, "seed": 1, "ours_share": 0.5})
    auth = await _auth(sim)
    (gained,) = await _points(sim, OTHER_SUPPLIER_GLN, 1)
    (lost,) = await _points(sim, OURS, 1)
    request_tx, answer = await _request(
        sim, auth, gained, FEB_1, customer=await _customer(sim, gained)
    )
    assert answer.accepted
    switched = await sim.client.post(
        "/sim/processes/switch", json={"gsrn": lost, "effective_start": FEB_1.isoformat()}
    )
    assert switched.status_code == 201
    busy = await sim.client.post(
        "/sim/processes/switch", json={"gsrn": lost, "effective_start": FEB_1.isoformat()}
    )
    assert busy.status_code == 409
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue WHERE category = 'MasterData'")

    await sim.client.post("/sim/clock", json={"to": "2025-01-31T22:59:00Z"})
    assert await _master_data(sim, seq) == []  # not effective yet
    await sim.client.post("/sim/clock", json={"to": "2025-02-02T00:00:00Z"})
    master_data, notice = await _master_data(sim, seq)
    assert isinstance(master_data, AccountingPointCharacteristics)
    assert (master_data.gsrn, master_data.receiver_gln, master_data.energy_supplier_gln) == (
        gained,
        OURS,
        OURS,
    )
    assert master_data.validity_start == master_data.supply_start == FEB_1
    assert master_data.original_transaction_id == request_tx
    assert master_data.process_reference == answer.transactions[0].process_reference
    row = await sim.db.fetchrow("SELECT * FROM metering_point WHERE gsrn = $1", gained)
    assert master_data.address is not None and master_data.address.dar_id == str(row["dar_id"])
    assert (master_data.grid_area, master_data.read_cycle) == (row["grid_area"], row["resolution"])
    assert isinstance(notice, GenericNotification)  # RSM-004 E44: our supply of `lost` ends
    assert (notice.gsrn, notice.receiver_gln, notice.validity_start) == (lost, OURS, FEB_1)

    processes = {p["gsrn"]: p for p in (await sim.client.get("/sim/processes")).json()}
    assert processes[gained]["state"] == processes[lost]["state"] == "completed"
    assert processes[gained]["previous_supplier_gln"] == OTHER_SUPPLIER_GLN
    assert processes[lost]["previous_supplier_gln"] == OURS
    point = (await sim.client.get(f"/sim/metering-points/{gained}")).json()
    assert point["supplier_gln"] == OURS and point["supply_start"] == FEB_1.isoformat()

    # Measure data follows the supplier: from 2025-02-01 we get `gained`, not `lost`.
    async def day_gsrns(start: str) -> set[str]:
        bodies = await sim.db.fetch(
            "SELECT body FROM queue WHERE category = 'MeasureData'"
            " AND convert_from(body, 'UTF8') LIKE $1",
            f'%"start":{{"value":"{start}"}}%',
        )
        docs = [parse_document(bytes(b["body"])) for b in bodies]
        return {
            s.gsrn
            for d in docs
            if isinstance(d, MeasureDataDocument)
            for s in d.series
            if s.original_transaction_id is None and s.start == datetime.fromisoformat(start)
        }

    january, february = await day_gsrns("2025-01-30T23:00Z"), await day_gsrns("2025-01-31T23:00Z")
    assert len(january) == len(february) > 50
    assert lost in january and gained not in january
    assert gained in february and lost not in february


async def test_move_in_today_or_business_days_back(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 200, "seed": 1, "ours_share": 0.5})
    auth = await _auth(sim)
    first, second, third = await _points(sim, OTHER_SUPPLIER_GLN, 3)
    new_customer = ("ARR", "0101901234")
    today = datetime(2024, 12, 31, 23, tzinfo=UTC)  # local 2025-01-01
    dec_19 = datetime(2024, 12, 18, 23, tzinfo=UTC)
    dec_18 = datetime(2024, 12, 17, 23, tzinfo=UTC)

    _, too_early = await _request(
        sim, auth, first, dec_18, process_type="E65", customer=new_customer
    )
    assert _codes(too_early) == ["E17"]  # six business days back
    _, no_customer = await _request(sim, auth, first, today, process_type="E65")
    assert _codes(no_customer) == ["D17"]
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue")
    _, confirmed = await _request(
        sim, auth, first, dec_19, process_type="E65", customer=new_customer
    )
    assert confirmed.accepted
    # Effective in the past: completed at once, master data queued after the confirmation.
    queued = await _master_data(sim, seq)
    assert [type(d).__name__ for d in queued] == [
        "ChangeOfSupplierAnswer",
        "AccountingPointCharacteristics",
    ]
    assert queued[1].process_type == "E65" and queued[1].supply_start == dec_19
    point = (await sim.client.get(f"/sim/metering-points/{first}")).json()
    assert point["supplier_gln"] == OURS
    _, moved_in_today = await _request(
        sim, auth, second, today, process_type="E65", customer=new_customer
    )
    assert moved_in_today.accepted
    _, ahead = await _request(
        sim,
        auth,
        third,
        datetime(2025, 3, 2, 23, tzinfo=UTC),  # local 2025-03-03: 61 days ahead
        process_type="E65",
        customer=new_customer,
    )
    assert _codes(ahead) == ["E17"]  # a move-in at most 60 days ahead


@pytest.mark.parametrize("process_type", ["E20", "E66"])  # end of supply, move-out
async def test_ending_our_supply_confirms_and_hands_the_point_over(
    sim: Sim, process_type: str
) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 200, "seed": 1, "ours_share": 0.5})
    auth = await _auth(sim)
    ours, theirs = (await _points(sim, OURS, 2)), (await _points(sim, OTHER_SUPPLIER_GLN, 1))
    _, ended = await _request(sim, auth, ours[0], FEB_1, process_type=process_type)
    assert ended.accepted
    _, not_ours = await _request(sim, auth, theirs[0], FEB_1, process_type=process_type)
    assert _codes(not_ours) == ["E16"]
    _, too_soon = await _request(
        sim, auth, ours[1], datetime(2024, 12, 31, 23, tzinfo=UTC), process_type=process_type
    )
    assert _codes(too_soon) == ["E17"]
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue WHERE category = 'MasterData'")

    await sim.client.post("/sim/clock", json={"to": "2025-02-02T00:00:00Z"})
    point = (await sim.client.get(f"/sim/metering-points/{ours[0]}")).json()
    assert point["supplier_gln"] == OTHER_SUPPLIER_GLN
    assert await _master_data(sim, seq) == []  # we asked for it: no notification to us


async def test_the_previous_supplier_rolls_back_a_wrong_switch(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 200, "seed": 1, "ours_share": 0.5})
    auth = await _auth(sim)
    (point,) = await _points(sim, OTHER_SUPPLIER_GLN, 1)
    _, switched = await _request(sim, auth, point, FEB_1, customer=await _customer(sim, point))
    assert switched.accepted
    await sim.client.post("/sim/clock", json={"to": "2025-02-02T00:00:00Z"})
    assert (await sim.client.get(f"/sim/metering-points/{point}")).json()["supplier_gln"] == OURS

    _, not_previous = await _request(sim, auth, point, FEB_1, process_type="D07")
    assert _codes(not_previous) == ["E16"]  # we are the new supplier, not the previous one
    other = {"sender": OTHER_SUPPLIER_GLN, "supplier": OTHER_SUPPLIER_GLN}
    _, wrong_date = await _request(
        sim, auth, point, datetime(2025, 2, 1, 23, tzinfo=UTC), process_type="D07", **other
    )
    assert _codes(wrong_date) == ["E17"]
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue WHERE category = 'MasterData'")
    _, rolled_back = await _request(sim, auth, point, FEB_1, process_type="D07", **other)
    assert rolled_back.accepted
    after = (await sim.client.get(f"/sim/metering-points/{point}")).json()
    assert after["supplier_gln"] == OTHER_SUPPLIER_GLN  # effective in the past: at once
    notices = [d for d in await _master_data(sim, seq) if isinstance(d, GenericNotification)]
    assert [(n.gsrn, n.receiver_gln, n.validity_start) for n in notices] == [(point, OURS, FEB_1)]


async def test_the_supplier_that_moved_a_customer_in_corrects_the_date(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 200, "seed": 1, "ours_share": 0.5})
    auth = await _auth(sim)
    (point,) = await _points(sim, OTHER_SUPPLIER_GLN, 1)
    dec_19, dec_20 = datetime(2024, 12, 18, 23, tzinfo=UTC), datetime(2024, 12, 19, 23, tzinfo=UTC)
    _, moved_in = await _request(
        sim, auth, point, dec_19, process_type="E65", customer=("ARR", "0101901234")
    )
    assert moved_in.accepted
    _, not_ours = await _request(
        sim,
        auth,
        point,
        dec_20,
        process_type="D33",
        sender=OTHER_SUPPLIER_GLN,
        supplier=OTHER_SUPPLIER_GLN,
    )
    assert _codes(not_ours) == ["E16"]
    seq = await sim.db.fetchval("SELECT max(seq) FROM queue WHERE category = 'MasterData'")
    _, corrected = await _request(sim, auth, point, dec_20, process_type="D33")
    assert corrected.accepted
    after = (await sim.client.get(f"/sim/metering-points/{point}")).json()
    assert (after["supplier_gln"], after["supply_start"]) == (OURS, dec_20.isoformat())
    master = [
        d for d in await _master_data(sim, seq) if isinstance(d, AccountingPointCharacteristics)
    ]
    assert [(m.process_type, m.supply_start) for m in master] == [("D33", dec_20)]


async def _cancel(sim: Sim, auth: dict[str, str], gsrn: str, original: str) -> CancelAnswer:
    request = CancelRequest(
        message_id=str(uuid.uuid4()),
        sender_gln=OURS,
        created=datetime(2025, 1, 1, tzinfo=UTC),
        transaction_id=str(uuid.uuid4()),
        gsrn=gsrn,
        original_transaction_id=original,
    )
    before = await sim.db.fetchval("SELECT coalesce(max(seq), 0) FROM queue")
    posted = await sim.client.post(
        f"{CIM}/incomingMessages/RequestCancelChangeOfSupplier",
        headers=auth,
        content=dumps(build_document(request)),
    )
    assert posted.status_code == 202, posted.text
    row = await sim.db.fetchrow(
        "SELECT body FROM queue WHERE category = 'MasterData' AND seq > $1 ORDER BY seq LIMIT 1",
        before,
    )
    answer = parse_document(bytes(row["body"]))
    assert isinstance(answer, CancelAnswer)
    assert answer.transactions[0].original_transaction_id == request.transaction_id
    return answer


async def test_a_request_is_cancelled_while_its_process_is_open(sim: Sim) -> None:
    await sim.client.post("/sim/seed", json={"metering_points": 200, "seed": 1, "ours_share": 0.5})
    auth = await _auth(sim)
    point, other = await _points(sim, OTHER_SUPPLIER_GLN, 2)
    switch_tx, switched = await _request(
        sim, auth, point, FEB_1, customer=await _customer(sim, point)
    )
    assert switched.accepted

    assert _codes(await _cancel(sim, auth, point, str(uuid.uuid4()))) == ["D06"]
    assert _codes(await _cancel(sim, auth, other, switch_tx)) == ["D05"]
    cancelled = await _cancel(sim, auth, point, switch_tx)
    assert cancelled.accepted
    assert _codes(await _cancel(sim, auth, point, switch_tx)) == ["D20"]  # no longer open

    await sim.client.post("/sim/clock", json={"to": "2025-02-02T00:00:00Z"})
    after = (await sim.client.get(f"/sim/metering-points/{point}")).json()
    assert after["supplier_gln"] == OTHER_SUPPLIER_GLN  # the cancelled switch never happened
    processes = {p["gsrn"]: p for p in (await sim.client.get("/sim/processes")).json()}
    assert processes[point]["state"] == "cancelled"
