"""Parse workers: in every replica, take what the pollers kept and commit its events.

Not leased: any number of workers in any number of replicas share the received messages
(:func:`wattline_datahub.handlers.inbound.parse_next` says why none is lost, taken twice or
committed out of its category's order).
"""

from __future__ import annotations

import asyncio

from wattline_platform.logging import get_logger

from wattline_datahub.handlers import Datahub, inbound

log = get_logger(__name__)


async def run_parser(dh: Datahub) -> None:
    """Parse received messages for as long as the service runs; wait a little when none is."""
    while True:
        try:
            if await inbound.parse_next(dh.service, dh.parse) is None:
                await asyncio.sleep(dh.settings.parse_idle_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away, a deadlock detected: still received
            log.warning("datahub_parser_error", error=repr(exc))
            await asyncio.sleep(1.0)
