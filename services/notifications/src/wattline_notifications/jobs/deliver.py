"""The sender: attempts due deliveries every ``job_interval_s`` (at once again while more wait)."""

from __future__ import annotations

import asyncio

from wattline_platform.logging import get_logger

from wattline_notifications.handlers import Notifications
from wattline_notifications.handlers.deliveries import deliver_due

log = get_logger(__name__)


async def deliver_job(n: Notifications) -> None:
    while True:
        try:
            if await deliver_due(n):
                continue
        except Exception as exc:
            log.error("notifications_job_failed", error=repr(exc))
        await asyncio.sleep(n.settings.job_interval_s)
