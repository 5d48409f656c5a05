"""Long work outside consumer callbacks: the pollers of DataHub's queues, the parse workers
and the sender.

The pollers and the sender are :func:`while_leased` loops: one replica at a time does the
work (a Postgres lease per job), and a failure of the database only delays it (what is
queued stays queued). The parse workers run in every replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from wattline_platform.logging import get_logger

from wattline_datahub.handlers import Datahub, leases

log = get_logger(__name__)


async def while_leased(
    dh: Datahub,
    lease: str,
    step: Callable[[], Awaitable[bool]],
    *,
    failed: str,
    taken: str | None = None,
    idle_s: float | None = None,
    **fields: str,
) -> None:
    """Run *step* for as long as the service runs, while holding the lease *lease*.

    Again at once while *step* did work (True), after ``idle_poll_s`` when it did none.
    Before every step the lease is checked on its own connection (the steps run on
    others): a lease whose session died may already be another replica's, so the loop
    stops stepping (:class:`~wattline_datahub.handlers.leases.LeaseLost`, logged as a
    failure) and takes it again. Another replica holding the lease: try again in 5 s. Any
    other failure (the database away): log *failed* with *fields*, take the lease again
    after 1 s. *taken*: the event logged each time the lease is taken.
    """
    while True:
        try:
            async with leases.held(dh.service.database, lease) as ours:
                if ours is None:
                    await asyncio.sleep(5.0)  # another replica does this work
                    continue
                if taken:
                    log.info(taken, **fields)
                while True:
                    await ours.ensure_held()
                    if not await step():
                        await asyncio.sleep(idle_s or dh.settings.idle_poll_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(failed, error=repr(exc), **fields)
            await asyncio.sleep(1.0)
