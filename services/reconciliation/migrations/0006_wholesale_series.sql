-- Wholesale reconciliation, as reviewed: DataHub's side is kept per RSM-019 series (a charge
-- may come as several: one per metering point type and settlement method) and summed when
-- compared; a series is replaced only by one at least as final (settlement version, then
-- DataHub's calculation version); a re-settled settlement replaces what it billed before.
ALTER TABLE wholesale_datahub
    ADD COLUMN metering_point_type text   NOT NULL DEFAULT '',
    ADD COLUMN settlement_method   text   NOT NULL DEFAULT '',
    ADD COLUMN calculation_rank    bigint NOT NULL DEFAULT 0;
ALTER TABLE wholesale_datahub DROP CONSTRAINT wholesale_datahub_pkey;
ALTER TABLE wholesale_datahub ADD PRIMARY KEY (grid_area, billing_period, charge_owner_gln,
    charge_type, charge_id, metering_point_type, settlement_method);

-- When the settlement event we hold was raised: a later one of the same settlement replaces it.
ALTER TABLE wholesale_settlements
    ADD COLUMN settled_at timestamptz NOT NULL DEFAULT '-infinity';
