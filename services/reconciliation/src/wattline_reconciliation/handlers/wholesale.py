"""Wholesale reconciliation's use cases: both sides arriving (DataHub's RSM-019, our
settlements and corrections), and reconciling the grid-area months they touched."""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any

import asyncpg
from wattline_contracts.datahub import WholesaleServicesReceivedV1
from wattline_contracts.envelope import Envelope
from wattline_contracts.reconciliation import WholesaleDeviationDetectedV1
from wattline_contracts.settlement import (
    SettlementCompletedV1,
    SettlementCorrectionV1,
    SettlementLineV1,
)
from wattline_platform.logging import get_logger

from wattline_reconciliation import metrics
from wattline_reconciliation.adapters import wholesale as store
from wattline_reconciliation.domain.wholesale import (
    ChargeKey,
    ChargeResult,
    SeriesKey,
    UnknownResolution,
    amounts_by_month,
    reconcile_month,
    series_rank,
)
from wattline_reconciliation.handlers import Reconciliation
from wattline_reconciliation.models import (
    BilledOut,
    WholesaleDetail,
    WholesalePage,
    WholesaleResultOut,
)

log = get_logger(__name__)


async def on_wholesale_services(
    tx: asyncpg.Connection, event: WholesaleServicesReceivedV1, envelope: Envelope
) -> None:
    """DataHub's settlement of one charge in one series: the sum of its positions' amounts
    per Danish local month they start in (a series without a charge, DataHub's monthly total,
    is not compared). Each month's series is stored unless a more final one is held."""
    del envelope
    if event.charge_id is None or event.charge_type is None or event.charge_owner_gln is None:
        return
    try:
        months = amounts_by_month(
            event.start, event.resolution, ((p.position, p.amount) for p in event.points)
        )
    except UnknownResolution:
        log.warning("wholesale_series_refused", reason="resolution", resolution=event.resolution,
                    datahub_message_id=event.datahub_message_id)  # fmt: skip
        return
    series = SeriesKey(
        ChargeKey(event.charge_owner_gln, event.charge_type, event.charge_id),
        event.metering_point_type or "",
        event.settlement_method or "",
    )
    rank = series_rank(event.settlement_version, event.calculation_version)
    for month, amount in sorted(months.items()):
        await store.upsert_datahub(
            tx, event.grid_area, month, series, amount, rank, event.datahub_message_id
        )
        await store.mark_pending(tx, event.grid_area, month)


def _amounts(lines: list[SettlementLineV1]) -> list[tuple[ChargeKey, Decimal]]:
    return [
        (ChargeKey(c.charge_owner_gln, c.charge_type, c.charge_id), c.amount)
        for line in lines
        for c in line.charges
    ]


async def on_settlement_completed(
    tx: asyncpg.Connection, event: SettlementCompletedV1, envelope: Envelope
) -> None:
    # Settled again, it may name another month or grid area: the one it left is pending too.
    await store.mark_settlement_pending(tx, event.settlement_id)
    if not await store.add_settlement(
        tx, event.settlement_id, event.grid_area, event.billing_period, envelope.occurred_at
    ):
        return  # a later event of this settlement is held: this one is stale
    # The same settlement settled again (e.g. restored after a reversed rollback): what it
    # bills now replaces what it billed before; its corrections stay as they are.
    await store.forget_billed(tx, event.settlement_id)
    await store.add_billed(
        tx, event.settlement_id, event.settlement_id, event.billing_period, _amounts(event.lines)
    )
    await store.mark_settlement_pending(tx, event.settlement_id)


async def on_settlement_correction(
    tx: asyncpg.Connection, event: SettlementCorrectionV1, envelope: Envelope
) -> None:
    del envelope
    await store.add_billed(
        tx, event.correction_id, event.settlement_id, event.billing_period, _amounts(event.lines)
    )
    await store.mark_settlement_pending(tx, event.settlement_id)


def _event(
    rec: Reconciliation, grid_area: str, month: str, r: ChargeResult
) -> WholesaleDeviationDetectedV1:
    assert r.datahub_dkk is not None and r.ours_dkk is not None and r.deviation_dkk is not None
    return WholesaleDeviationDetectedV1(
        grid_area=grid_area,
        billing_period=month,
        charge_owner_gln=r.charge.owner_gln,
        charge_type=r.charge.charge_type,
        charge_id=r.charge.charge_id,
        tolerance_dkk=rec.settings.wholesale_tolerance_dkk,
        datahub_dkk=r.datahub_dkk,
        ours_dkk=r.ours_dkk,
        deviation_dkk=r.deviation_dkk,
        deviation_percent=r.deviation_percent,
    )


async def reconcile_pending(rec: Reconciliation, limit: int = 50) -> int:
    """Reconcile up to *limit* pending grid-area months, each in its own transaction (one
    month that fails stays pending and does not hold back the others); returns how many were
    reconciled. A deviation that is new or changed raises
    ``reconciliation.wholesale_deviation.detected``."""
    done = 0
    for grid_area, month in await store.pending(rec.service.database, limit):
        try:
            raised = await _reconcile_month(rec, grid_area, month)
        except Exception as exc:  # one bad month must not stop the rest
            log.error("wholesale_reconcile_failed", grid_area=grid_area, month=month,
                      error=repr(exc))  # fmt: skip
            continue
        if raised is None:
            continue  # another worker has it
        done += 1
        for _ in range(raised):
            metrics.WHOLESALE_DEVIATIONS_DETECTED.labels(grid_area=grid_area).inc()
    if done:
        await refresh_metrics(rec)
    return done


async def _reconcile_month(rec: Reconciliation, grid_area: str, month: str) -> int | None:
    """One grid-area month in one transaction: how many deviations it raised (None: it was
    not pending any more)."""
    raised = 0
    async with rec.service.database.transaction() as tx:
        if not await store.claim(tx, grid_area, month):
            return None
        datahub, ours = await store.load_month(tx, grid_area, month)
        results = reconcile_month(datahub, ours, rec.settings.wholesale_tolerance_dkk)
        before = await store.fingerprints(tx, grid_area, month)
        await store.replace_results(tx, grid_area, month, results)
        for r in results:
            fingerprint = r.fingerprint()
            if fingerprint is not None and before.get(r.charge) != fingerprint:
                await rec.service.emit(tx, _event(rec, grid_area, month, r), key=grid_area)
                raised += 1
    return raised


async def refresh_metrics(rec: Reconciliation) -> None:
    for row in await store.totals_by_grid_area(rec.service.database):
        area = row["grid_area"]
        metrics.WHOLESALE_DEVIATION_CHARGES.labels(grid_area=area).set(row["deviating"])
        metrics.WHOLESALE_DEVIATION_DKK.labels(grid_area=area).set(float(row["dkk"]))


# -- reading the results -------------------------------------------------------------------


class InvalidCursor(ValueError):
    """A cursor this service did not hand out."""


class NotFound(LookupError):
    """No wholesale result for that grid area, month and charge."""


_FIELDS = ("billing_period", "grid_area", "charge_owner_gln", "charge_type", "charge_id")


def _encode(row: Any) -> str:
    raw = "|".join(row[k] for k in _FIELDS)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str, str, str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        month, area, owner, charge_type, charge_id = raw.split("|")
        if "\x00" in raw or len(raw) > 200:  # PostgreSQL text holds no NUL
            raise ValueError("not one of ours")
        return month, area, owner, charge_type, charge_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None


def _out(row: Any) -> WholesaleResultOut:
    return WholesaleResultOut(**{k: row[k] for k in WholesaleResultOut.model_fields})


async def results(
    rec: Reconciliation, *, period: str | None, grid_area: str | None, status: str | None,
    after: str | None, limit: int,
) -> WholesalePage:  # fmt: skip
    rows = await store.list_results(
        rec.service.database, month=period, grid_area=grid_area, status=status,
        after=_decode(after) if after else None, limit=limit + 1,
    )  # fmt: skip
    page = rows[:limit]
    return WholesalePage(
        items=[_out(r) for r in page], next=_encode(page[-1]) if len(rows) > limit else None
    )


async def charge(
    rec: Reconciliation, grid_area: str, period: str, key: ChargeKey
) -> WholesaleDetail:
    """One charge's result with what each of our settlements billed for it."""
    rows = await store.list_results(
        rec.service.database, month=period, grid_area=grid_area, status=None, after=None,
        limit=10_000,
    )  # fmt: skip
    found = [
        r
        for r in rows
        if (r["charge_owner_gln"], r["charge_type"], r["charge_id"])
        == (key.owner_gln, key.charge_type, key.charge_id)
    ]
    if not found:
        raise NotFound(f"no wholesale result for {key.charge_id} in {grid_area} {period}")
    billed = await store.billed_by_settlement(rec.service.database, grid_area, period, key)
    return WholesaleDetail(
        result=_out(found[0]),
        settlements=[
            BilledOut(
                settlement_id=b["settlement_id"], amount_dkk=b["amount_dkk"], sources=b["sources"]
            )
            for b in billed
        ],
    )
