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
from concurrent.futures.process import BrokenProcessPool
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
    document (a CimError is its reason).

    Parsing is pure, so any other exception is a document our parser cannot take (a fault of
    ours, or of the document) and would fail the same way every time: the message is dead-
    lettered with it, to be retried once fixed, instead of being claimed again and again by
    every worker while the messages behind it wait."""
    try:
        docs = parse_documents(raw)
        parts = [interpret(doc, message_id) for doc in docs]
        return Understanding(Understood.joined(parts), type(docs[0]).__name__)
    except CimError as exc:
        return Understanding(Understood(), None, str(exc))
    except Exception as exc:
        return Understanding(
            Understood(), None, f"the parser failed on this document: {type(exc).__name__}"
        )


Parse = Callable[[bytes, str], Awaitable[Understanding]]


async def in_thread(raw: bytes, message_id: str) -> Understanding:
    """:func:`understand` in a thread: the event loop goes on between the GIL's switches."""
    return await asyncio.to_thread(understand, raw, message_id)


class InProcesses:
    """:func:`understand` in a pool of *processes* started fresh (``spawn``: nothing of the
    service's threads or connections is copied), each with the CIM schemas compiled first."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=warm
        )

    async def __call__(self, raw: bytes, message_id: str) -> Understanding:
        """A process that dies (the OOM killer, a crash) breaks the whole pool: it is replaced
        and the message parsed once more; one that kills its process again is dead-lettered
        rather than breaking every pool after it."""
        loop = asyncio.get_running_loop()
        for _ in range(2):
            pool = self._pool
            try:
                return await loop.run_in_executor(pool, understand, raw, message_id)
            except BrokenProcessPool:
                if self._pool is pool:  # the first to notice replaces it
                    self._pool = self._new()
                    pool.shutdown(wait=False, cancel_futures=True)
        return Understanding(Understood(), None, "the parser's process died on this document")

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, True, cancel_futures=True)
