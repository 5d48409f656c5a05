"""The sender job: posts recorded requests to DataHub, on one replica at a time.

Why one: :mod:`wattline_datahub.handlers.requests` (a request is recorded once and sent by
whoever holds the lease; its outcome is committed with its event).
"""

from __future__ import annotations

from wattline_datahub.handlers import Datahub, requests
from wattline_datahub.jobs import while_leased


async def run_sender(dh: Datahub) -> None:
    """Send pending requests for as long as the service runs, holding the sender lease."""

    async def send() -> bool:
        return await requests.send_pending(dh) > 0

    await while_leased(dh, "datahub-sender", send, failed="datahub_sender_error")
