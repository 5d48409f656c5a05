"""DataHub's queues as the supplier sees them (peek, dequeue) and the faults injected into them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from wattline_simulator.adapters import store
from wattline_simulator.domain.faults import Answer, Fault, answer_for, pick
from wattline_simulator.settings import SimulatorService


@dataclass(frozen=True)
class Peeked:
    """A peek answer: a message, nothing (204) or an injected failure."""

    status: int
    message_id: str | None = None
    body: bytes | None = None
    document_type: str | None = None
    failure: Answer | None = None


async def _response_fault(service: SimulatorService, category: str) -> Answer | None:
    """Apply the response fault for the next call on *category*, if any."""
    async with service.database.transaction() as tx:
        fault = pick(await store.faults(tx), category)
        if fault is None:
            return None
        await store.consume_fault(tx, fault)
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_ms / 1000)
        return None
    answer = answer_for(fault)
    if answer is not None:
        async with service.database.transaction() as tx:
            await store.log_served(tx, category, answer.status, None, fault.kind)
    return answer


async def check_faults(service: SimulatorService, category: str) -> Answer | None:
    """The injected failure for a non-peek call on *category* (dequeue, incoming)."""
    return await _response_fault(service, category)


async def peek(service: SimulatorService, category: str) -> Peeked:
    """The oldest message of *category*, logged in the served log."""
    failure = await _response_fault(service, category)
    if failure is not None:
        return Peeked(failure.status, failure=failure)
    async with service.database.transaction() as tx:
        row = await store.peek(tx, category)
        if row is None:
            await store.log_served(tx, category, 204, None, None)
            return Peeked(204)
        await store.log_served(tx, category, 200, row["message_id"], row["fault"])
    return Peeked(200, row["message_id"], bytes(row["body"]), row["document_type"])


async def dequeue(service: SimulatorService, message_id: str) -> bool:
    """Remove a message; a ``duplicate`` fault queues it once more with the same id."""
    async with service.database.transaction() as tx:
        row = await store.dequeue(tx, message_id)
        if row is None:
            return False
        dup = next(
            (
                f
                for f in await store.faults(tx)
                if f.kind == "duplicate" and f.applies_to(row["category"])
            ),
            None,
        )
        if dup is not None:
            await store.consume_fault(tx, dup)
            await store.enqueue(
                tx,
                row["category"],
                row["document_type"],
                bytes(row["body"]),
                message_id=row["message_id"],
                fault="duplicate",
            )
    return True


async def inject(service: SimulatorService, fault: Fault, broken_documents: list[bytes]) -> None:
    """Store *fault*; queue faults put their broken documents in the queue at once."""
    async with service.database.transaction() as tx:
        if broken_documents:
            for body in broken_documents:
                await store.enqueue(tx, fault.category, "unknown", body, fault=fault.kind)
        else:
            await store.set_fault(tx, fault)


async def queue_raw(
    service: SimulatorService, category: str, document_type: str, body: bytes
) -> str:
    """Queue *body* as given in *category*; its message id."""
    async with service.database.transaction() as tx:
        return await store.enqueue(tx, category, document_type, body)


async def clear_faults(service: SimulatorService) -> None:
    """Clear every injected fault."""
    async with service.database.transaction() as tx:
        await store.clear_faults(tx)


async def served(service: SimulatorService, since: int) -> list[dict[str, Any]]:
    """The served log after entry *since*, oldest first."""
    async with service.database.connection() as conn:
        return [dict(r) for r in await store.served_log(conn, since)]


async def depth(service: SimulatorService) -> dict[str, int]:
    """Pending messages per category."""
    async with service.database.connection() as conn:
        return await store.depth(conn)
