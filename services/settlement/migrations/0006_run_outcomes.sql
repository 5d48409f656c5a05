-- A run shows the latest outcome of its items: a blocked run is run again in place (with
-- backoff) until nothing of it is blocked, and an item of it settled by another run or by a
-- correction counts as settled there ("already settled") instead of staying blocked here.
ALTER TABLE settlement_run
    ADD COLUMN attempts              integer NOT NULL DEFAULT 0,
    ADD COLUMN already_settled_items integer NOT NULL DEFAULT 0;
CREATE INDEX settlement_run_blocked ON settlement_run (finished_at) WHERE status = 'blocked';
CREATE INDEX settlement_blocked_supply_period ON settlement_blocked (supply_period_id);

-- Days whose values are not all there: few, and what the schedule's completeness check of a
-- month looks for (the other days it counts from the primary key).
CREATE INDEX metering_data_gaps ON metering_data (local_date, gsrn, version)
    WHERE array_position(wh, NULL) IS NOT NULL;

-- The schedule records a month's run when the month opens for it, waiting until its metering
-- data is complete (or the deadline passes): back office sees it waiting, and why.
ALTER TABLE settlement_run DROP CONSTRAINT settlement_run_status_check;
ALTER TABLE settlement_run ADD CONSTRAINT settlement_run_status_check
    CHECK (status IN ('waiting', 'queued', 'running', 'completed', 'blocked', 'failed'));
CREATE INDEX settlement_run_waiting ON settlement_run (billing_period) WHERE status = 'waiting';
