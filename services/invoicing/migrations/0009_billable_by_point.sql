-- A point's settlements by period, billed or not (last year's kWh on the bill, aconto).
CREATE INDEX billable_by_point ON billable (gsrn, billing_period);
