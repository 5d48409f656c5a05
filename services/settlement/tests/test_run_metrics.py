"""Settlement runs are counted by outcome with their duration, and a run not completed past
its month's deadline shows in ``wattline_settlement_runs_past_deadline`` (alert rule
SettlementRunPastDeadline), on the service's real tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from prometheus_client import REGISTRY
from wattline_platform.testing import SchemaFactory
from wattline_settlement import metrics
from wattline_settlement.bootstrap import SPEC, SettlementSettings, build
from wattline_settlement.handlers import runs


@dataclass
class Clock:
    today: date

    async def now(self) -> datetime:
        return datetime.combine(self.today, time(12), tzinfo=UTC)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_run_is_counted_timed_and_overdue_until_it_completes(
    make_schema_db: SchemaFactory, postgres_dsn: str
) -> None:
    service = build(SettlementSettings(database_url=postgres_dsn, jobs=False))
    service.db = await make_schema_db(SPEC.migrations_dir)
    completed = _sample("wattline_settlement_runs_total", outcome="completed")
    timed = _sample("wattline_settlement_run_duration_seconds_count", outcome="completed")

    # January's run, queued and not worked: overdue once ten days of February have passed.
    await runs.start_run(service, "2025-01", "999", "api")
    async with service.database.connection() as conn:
        await metrics.refresh(conn, Clock(date(2025, 2, 10)), deadline_days=10)
        assert _sample("wattline_settlement_runs_past_deadline") == 0
        await metrics.refresh(conn, Clock(date(2025, 2, 11)), deadline_days=10)
        assert _sample("wattline_settlement_runs_past_deadline") == 1

    while await runs.work_once(service):  # no metering points in 999: completed at once
        pass
    assert _sample("wattline_settlement_runs_total", outcome="completed") == completed + 1
    assert (
        _sample("wattline_settlement_run_duration_seconds_count", outcome="completed") == timed + 1
    )
    async with service.database.connection() as conn:
        await metrics.refresh(conn, Clock(date(2025, 2, 11)), deadline_days=10)
    assert _sample("wattline_settlement_runs_past_deadline") == 0
