"""The retention job: compresses and deletes old raw inbound messages, one replica at a time.

What it keeps and for how long: :mod:`wattline_datahub.domain.retention`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from wattline_platform.logging import get_logger

from wattline_datahub.handlers import Datahub, retention
from wattline_datahub.jobs import while_leased

log = get_logger(__name__)


async def run_retention(dh: Datahub) -> None:
    """Retention passes for as long as the service runs, holding the retention lease."""
    settings = dh.settings

    async def step() -> bool:
        cut = retention.cut_offs(
            datetime.now(UTC), settings.raw_compress_after_days, settings.raw_keep_days
        )
        done = await retention.retention_pass(dh.service, cut, settings.retention_batch)
        if done.compressed or done.deleted:
            log.info("datahub_raw_retention", compressed=done.compressed, deleted=done.deleted)
        return bool(done.compressed or done.deleted)

    await while_leased(
        dh,
        "datahub-retention",
        step,
        failed="datahub_retention_error",
        idle_s=settings.retention_interval_s,
    )
