"""Where a DataHub message is parsed: in a thread of the service's process, or in a pool of
processes of its own.

Parsing (JSON, the CIM schema check, the models, :func:`~wattline_datahub.domain.inbound.
interpret`) is the CPU-bound part of the ingest, ~20-30 ms for an RSM-012 of 50 series. Run on
the event loop it would stall the poller, the relay and the health checks for that long; in a
thread it holds the GIL all the same, so a replica's parsing runs on one core. A process pool
(``WATTLINE_DATAHUB_PARSE_PROCESSES``) gives a replica more cores; replicas give more again.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from wattline_cim import CimError, parse_documents
from wattline_cim.schema import warm

from wattline_datahub.domain.inbound import Understood, interpret


@dataclass(frozen=True)
class Understanding:
    """What a raw message becomes: its events (and the rest), its document type and, for one
    we cannot take, the reason (then nothing else)."""

    understood: Understood
    document_type: str | None = None
    reason: str | None = None


def understand(raw: bytes, message_id: str) -> Understanding:
    """Parse *raw*, served under *message_id*, into what it becomes; never raises for a bad
    document (a CimError is its reason)."""
    try:
        docs = parse_documents(raw)
        parts = [interpret(doc, message_id) for doc in docs]
        return Understanding(Understood.joined(parts), type(docs[0]).__name__)
    except CimError as exc:
        return Understanding(Understood(), None, str(exc))


Parse = Callable[[bytes, str], Awaitable[Understanding]]


async def in_thread(raw: bytes, message_id: str) -> Understanding:
    """:func:`understand` in a thread: the event loop goes on between the GIL's switches."""
    return await asyncio.to_thread(understand, raw, message_id)


class InProcesses:
    """:func:`understand` in a pool of *processes* started fresh (``spawn``: nothing of the
    service's threads or connections is copied), each with the CIM schemas compiled first."""

    def __init__(self, processes: int) -> None:
        self._pool = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("spawn"), initializer=warm
        )

    async def __call__(self, raw: bytes, message_id: str) -> Understanding:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, understand, raw, message_id)

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, True, cancel_futures=True)
