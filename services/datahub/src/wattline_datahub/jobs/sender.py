"""The sender job: posts recorded requests to DataHub, on one replica at a time.

Why one: :mod:`wattline_datahub.handlers.requests` (a request is recorded once and sent by
whoever holds the lease; its outcome is committed with its event).
"""

from __future__ import annotations

import asyncio

from wattline_platform.logging import get_logger

from wattline_datahub.handlers import Datahub, leases, requests

log = get_logger(__name__)


async def run_sender(dh: Datahub) -> None:
    """Send pending requests for as long as the service runs, holding the sender lease."""
    while True:
        try:
            async with leases.held(dh.service, "datahub-sender") as ours:
                if not ours:
                    await asyncio.sleep(5.0)
                    continue
                while True:
                    if not await requests.send_pending(dh):
                        await asyncio.sleep(dh.settings.idle_poll_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("datahub_sender_error", error=repr(exc))
            await asyncio.sleep(1.0)
