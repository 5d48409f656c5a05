"""Retention of raw inbound messages: one pass compresses a batch and deletes a batch.

Run under a lease (:mod:`wattline_datahub.jobs.retention`); the rows are also locked with
SKIP LOCKED, so two passes never work on the same message. Compression runs in a thread
(lzma holds the CPU), inside the transaction that swaps the body: a crash leaves the plain
body, never neither.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from wattline_datahub.adapters import inbound_messages
from wattline_datahub.domain.retention import CutOffs, body, cut_offs, pack

__all__ = ["Pass", "cut_offs", "raw_message", "retention_pass"]
from wattline_datahub.settings import DatahubService


@dataclass(frozen=True)
class Pass:
    compressed: int
    deleted: int


async def retention_pass(service: DatahubService, cut: CutOffs, batch: int) -> Pass:
    """Compress up to *batch* messages older than the compression cut-off and delete up to
    *batch* older than the keeping time."""
    async with service.database.transaction() as tx:
        rows = await inbound_messages.plain_before(tx, cut.compress_before, batch)
        packed = await asyncio.to_thread(
            lambda: [(r["message_id"], pack(bytes(r["raw"]))) for r in rows]
        )
        if packed:
            await inbound_messages.store_packed(tx, packed)
    async with service.database.transaction() as tx:
        deleted = await inbound_messages.delete_before(tx, cut.delete_before, batch)
    return Pass(len(packed), deleted)


async def raw_message(service: DatahubService, message_id: str) -> bytes | None:
    """The body DataHub sent under *message_id*, compressed or not; None if none is kept."""
    async with service.database.connection() as conn:
        row = await inbound_messages.get_body(conn, message_id)
    return None if row is None else body(row["raw"], row["raw_lzma"])
