-- Requests raised by the reconciliation job for the gaps it finds: one per gap, ever (a
-- later reconciliation of the same day finds the same gap and must not ask again).
ALTER TABLE data_requests ADD COLUMN automatic boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX data_requests_one_per_gap
    ON data_requests (kind, coalesce(grid_area, ''), coalesce(gsrn, ''),
                      coalesce(metering_point_type, ''), start_date, end_date)
    WHERE automatic;
