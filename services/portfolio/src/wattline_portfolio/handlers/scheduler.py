"""The scheduler's steps: hand processes whose hold is over to the datahub service, and
complete ending processes (end of supply, move-out) whose effective date has come. The loop
that runs them is ``jobs.scheduler``."""

from __future__ import annotations

import asyncpg
from wattline_contracts.portfolio import DataHubRequestRaisedV1, OffboardReason
from wattline_platform.logging import get_logger

from wattline_portfolio.adapters import store
from wattline_portfolio.domain.process import Step
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.processes import STARTING, apply
from wattline_portfolio.handlers.supply import end_period

log = get_logger(__name__)
_OFFBOARD_REASON: dict[str, OffboardReason] = {"BRS-002": "end_of_supply", "BRS-010": "move_out"}


async def raise_due(p: Portfolio, limit: int = 200) -> int:
    """Hand the processes whose hold is over to the datahub service (one transaction; replicas
    skip each other's rows)."""
    async with p.service.database.transaction() as tx:
        rows = await store.due_to_raise(tx, limit)
        raised = 0
        for row in rows:
            try:
                async with tx.transaction():  # a savepoint: one bad row never blocks the rest
                    await _raise(p, tx, row)
                raised += 1
            except Exception as exc:
                log.error("raise_failed", process_id=str(row["process_id"]), error=repr(exc))
    return raised


async def _raise(p: Portfolio, tx: asyncpg.Connection, row: asyncpg.Record) -> None:
    """Hand one process to the datahub service."""
    scheme: str | None = None
    sealed: str | None = None
    if row["kind"] in STARTING:
        party = await store.party(tx, str(row["customer_id"]))
        assert party is not None
        person = p.vault.open_person(party["sealed"])
        scheme, sealed = person.scheme, p.vault.seal(person.cpr_cvr)
    await p.emit(
        tx,
        DataHubRequestRaisedV1(
            request_id=row["request_id"],
            kind=row["kind"],
            gsrn=row["gsrn"],
            effective_date=row["effective_date"],
            balance_responsible_gln=p.settings.balance_responsible_gln
            if row["kind"] in (*STARTING, "BRS-003")
            else None,
            customer_scheme=scheme,
            customer_id_sealed=sealed,
        ),
        row["gsrn"],
    )
    process, _ = store.to_domain(row).raise_request()
    await store.save_process(
        tx, row, process, [Step("pending", "request handed to DataHub")], "scheduler"
    )


async def complete_due(p: Portfolio, limit: int = 200) -> int:
    """Complete ending processes (end of supply, move-out) whose effective date has come."""
    today = await p.today()
    async with p.service.database.transaction() as tx:
        rows = await store.due_endings(tx, today, limit)
        for row in rows:
            process, steps = store.to_domain(row).effectuated(
                f"effective {row['effective_date'].isoformat()}: our supply ended"
            )
            await apply(p, tx, row, process, steps, "scheduler")
            period = await store.current_period(tx, row["gsrn"])
            if period is not None:
                await end_period(
                    p, tx, period, row["effective_date"], _OFFBOARD_REASON[row["kind"]], row
                )
    return len(rows)
