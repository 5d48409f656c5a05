-- A deviation's percentage is unbounded: DataHub's figure can be tiny (0.000001 DKK, 0.001 kWh)
-- beside a large deviation, and numeric(9, 2) overflowed, rolling back the whole batch of
-- results it was reconciled in, batch after batch.
ALTER TABLE hour_results ALTER COLUMN deviation_percent TYPE numeric;
ALTER TABLE wholesale_results ALTER COLUMN deviation_percent TYPE numeric;
