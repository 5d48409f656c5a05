"""Reconciling the pending grid-area days: load both sides, compare (domain), replace the
results and raise ``reconciliation.deviation.detected`` for deviations that are new or changed,
all in one transaction per batch; then the metrics follow the stored results."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
from wattline_contracts.reconciliation import DeviatingHourV1, DeviationDetectedV1

from wattline_reconciliation import metrics
from wattline_reconciliation.adapters import requests as request_store
from wattline_reconciliation.adapters import store
from wattline_reconciliation.domain.energy import SliceDay, reconcile_day
from wattline_reconciliation.domain.requests import DataRequest, gap_ask_at
from wattline_reconciliation.handlers import Reconciliation, requests


def _event(rec: Reconciliation, grid_area: str, day: date, s: SliceDay) -> DeviationDetectedV1:
    return DeviationDetectedV1(
        grid_area=grid_area,
        local_date=day,
        metering_point_type=s.metering_point_type,
        settlement_method=s.settlement_method or None,
        tolerance_kwh=rec.settings.tolerance_kwh,
        tolerance_percent=rec.settings.tolerance_percent,
        deviation_kwh=s.deviation_kwh,
        hours=[
            DeviatingHourV1(
                hour_start=h.hour_start,
                datahub_kwh=h.datahub_kwh,
                ours_kwh=h.ours_kwh,
                deviation_kwh=h.deviation_kwh,
                deviation_percent=h.deviation_percent,
            )
            for h in s.deviating
            if h.datahub_kwh is not None and h.ours_kwh is not None and h.deviation_kwh is not None
        ],
    )


def _has_gap(s: SliceDay) -> bool:
    return bool(s.count("missing_datahub") or s.points_missing)


async def _gaps_due(
    tx: asyncpg.Connection, rec: Reconciliation, grid_area: str, day: date, slices: list[SliceDay]
) -> bool:
    """Whether the day's gaps have stood long enough to ask about; if not, the day is
    reconciled again when they have (or sooner, when new data arrives)."""
    if not any(_has_gap(s) for s in slices):
        await request_store.forget_gap(tx, grid_area, day)
        return False
    first_seen, now = await request_store.gap_seen(tx, grid_area, day)
    ask_at = gap_ask_at(first_seen, timedelta(seconds=rec.settings.request_missing_after_s))
    if now >= ask_at:
        return True
    await request_store.defer(tx, grid_area, day, ask_at)
    return False


async def _request_gaps(
    tx: asyncpg.Connection, rec: Reconciliation, grid_area: str, day: date, s: SliceDay
) -> None:
    """Ask DataHub once per gap: its totals where it sent none (RSM-016), a point's data where
    ours lacks values DataHub counted (RSM-015)."""
    end = day + timedelta(days=1)
    if s.count("missing_datahub"):
        gap = DataRequest("RSM-016", day, end, grid_area=grid_area,
                          metering_point_type=s.metering_point_type)  # fmt: skip
        await requests.raise_in(tx, rec, gap, automatic=True)
    for gsrn in s.points_missing:
        await requests.raise_in(
            tx, rec, DataRequest("RSM-015", day, end, gsrn=gsrn), automatic=True
        )


async def reconcile_pending(rec: Reconciliation, limit: int = 50) -> int:
    """Reconcile up to *limit* pending grid-area days; returns how many."""
    raised: list[str] = []
    async with rec.service.database.transaction() as tx:
        days = await store.claim_pending(tx, limit)
        for grid_area, day in days:
            slots, points = await store.load_day(tx, grid_area, day)
            slices = reconcile_day(day, slots, points, rec.tolerance)
            before = await store.fingerprints(tx, grid_area, day)
            await store.replace_results(tx, grid_area, day, slices)
            ask = rec.settings.request_missing and await _gaps_due(tx, rec, grid_area, day, slices)
            for s in slices:
                fingerprint = s.fingerprint()
                key = (s.metering_point_type, s.settlement_method)
                if fingerprint is not None and before.get(key) != fingerprint:
                    await rec.service.emit(tx, _event(rec, grid_area, day, s), key=grid_area)
                    raised.append(grid_area)
                if ask:
                    await _request_gaps(tx, rec, grid_area, day, s)
    for grid_area in raised:
        metrics.DEVIATIONS_DETECTED.labels(grid_area=grid_area).inc()
    if days:
        metrics.DAYS_RECONCILED.inc(len(days))
        await refresh_metrics(rec)
    return len(days)


async def refresh_metrics(rec: Reconciliation) -> None:
    """Set the deviation gauges from the stored results (also at start: they survive
    restarts)."""
    for row in await store.totals_by_grid_area(rec.service.database):
        area = row["grid_area"]
        metrics.DEVIATION_HOURS.labels(grid_area=area).set(row["deviating"])
        metrics.DEVIATION_KWH.labels(grid_area=area).set(float(row["kwh"]))
        metrics.MISSING_HOURS.labels(grid_area=area, side="ours").set(row["missing_ours"])
        metrics.MISSING_HOURS.labels(grid_area=area, side="datahub").set(row["missing_datahub"])
