"""The periodic spot price import: yesterday..tomorrow from Energi Data Service."""

from __future__ import annotations

import asyncio

from wattline_platform.logging import get_logger

from wattline_settlement.adapters.prices import EdsClient
from wattline_settlement.handlers.pricing import import_recent
from wattline_settlement.settings import SettlementService, SettlementSettings

log = get_logger(__name__)


async def import_job(
    service: SettlementService, settings: SettlementSettings | None = None
) -> None:
    """Background job: every ``spot_import_interval_s``, import yesterday..tomorrow.

    Tomorrow's prices appear around 13:00 the day before; until then they count as missing
    and the next round fetches them. A failed round is logged and retried next round.
    """
    settings = settings or service.settings
    async with EdsClient(
        settings.eds_base_url, timeout_s=settings.eds_timeout_s, page_size=settings.eds_page_size
    ) as client:
        while True:
            try:
                await import_recent(service, client, settings)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("spot_import_failed", error=f"{type(exc).__name__}: {exc}"[:500])
            await asyncio.sleep(settings.spot_import_interval_s)
