-- A gap (DataHub's totals or our metering data missing for a day) is asked about only once it
-- has stood for WATTLINE_RECONCILIATION_REQUEST_MISSING_AFTER_S: the other side usually just
-- has not arrived yet. A day is deferred until then (not_before); new data makes it due again.
ALTER TABLE pending_days ADD COLUMN not_before timestamptz NOT NULL DEFAULT '-infinity';
CREATE TABLE gaps_seen (
    grid_area     text        NOT NULL,
    local_date    date        NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grid_area, local_date)
);
