"""The reconciliation job: reconciles the grid-area days new data has touched."""

from __future__ import annotations

import asyncio

from wattline_platform.logging import get_logger

from wattline_reconciliation.handlers import Reconciliation, wholesale
from wattline_reconciliation.handlers.reconcile import reconcile_pending, refresh_metrics

log = get_logger(__name__)


async def reconcile_job(rec: Reconciliation) -> None:
    """Run :func:`reconcile_pending` every ``job_interval_s`` (at once again while days wait)."""
    try:
        await refresh_metrics(rec)
        await wholesale.refresh_metrics(rec)
    except Exception as exc:
        log.error("reconciliation_metrics_failed", error=repr(exc))
    while True:
        try:
            energy = await reconcile_pending(rec)
            if energy + await wholesale.reconcile_pending(rec):
                continue
        except Exception as exc:
            log.error("reconciliation_job_failed", error=repr(exc))
        await asyncio.sleep(rec.settings.job_interval_s)
