-- Energy reconciliation: DataHub's RSM-014 totals, our side (which points we supply where, and
-- their metering data), and the results per grid area, local day and hour.

-- DataHub's totals, one row per position of an RSM-014 series. A slot is replaced only by a
-- version ranked at least as high (a correction settlement over balance fixing, a later
-- correction over an earlier one, a resend of the same one).
CREATE TABLE datahub_slots (
    grid_area           text        NOT NULL,
    metering_point_type text        NOT NULL,
    settlement_method   text        NOT NULL,  -- '' where DataHub gives none (production)
    resolution          text        NOT NULL CHECK (resolution IN ('PT15M', 'PT1H')),
    slot_start          timestamptz NOT NULL,
    kwh                 numeric(14, 3),        -- NULL: DataHub sent the position without a value
    version_rank        integer     NOT NULL,
    process_type        text        NOT NULL,
    settlement_version  text,
    datahub_message_id  text        NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grid_area, metering_point_type, settlement_method, resolution, slot_start)
);

-- The metering points in our portfolio and where they are (portfolio.metering_point.registered).
CREATE TABLE metering_points (
    gsrn                text PRIMARY KEY,
    grid_area           text NOT NULL,
    metering_point_type text NOT NULL,
    settlement_method   text NOT NULL,  -- '' for none
    resolution          text NOT NULL
);

-- When we supply them (portfolio.supply_period.changed; rolled back: void).
CREATE TABLE supply_periods (
    supply_period_id text PRIMARY KEY,
    gsrn             text NOT NULL,
    start_date       date NOT NULL,
    end_date         date,
    void             boolean NOT NULL DEFAULT false
);
CREATE INDEX supply_periods_gsrn ON supply_periods (gsrn);

-- Our metering data (datahub.measure_data.received): one row per point and local day, Wh per
-- position (NULL: missing); a newer message for the day replaces the older.
CREATE TABLE metering_days (
    gsrn       text    NOT NULL,
    local_date date    NOT NULL,
    resolution text    NOT NULL CHECK (resolution IN ('PT15M', 'PT1H')),
    wh         bigint[] NOT NULL,
    PRIMARY KEY (gsrn, local_date)
);

-- Grid-area days whose inputs changed since they were last reconciled.
CREATE TABLE pending_days (
    grid_area  text NOT NULL,
    local_date date NOT NULL,
    PRIMARY KEY (grid_area, local_date)
);

-- Results: one row per grid area, local day, metering-point type and settlement method ...
CREATE TABLE day_results (
    grid_area           text    NOT NULL,
    local_date          date    NOT NULL,
    metering_point_type text    NOT NULL,
    settlement_method   text    NOT NULL,
    status              text    NOT NULL
        CHECK (status IN ('matched', 'deviation', 'missing_ours', 'missing_datahub')),
    datahub_kwh         numeric(14, 3),
    ours_kwh            numeric(14, 3),
    deviation_kwh       numeric(14, 3) NOT NULL,
    hours_matched       integer NOT NULL,
    hours_deviating     integer NOT NULL,
    hours_missing_ours  integer NOT NULL,
    hours_missing_datahub integer NOT NULL,
    deviation_fingerprint text,  -- what was last raised as reconciliation.deviation.detected
    reconciled_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grid_area, local_date, metering_point_type, settlement_method)
);
CREATE INDEX day_results_keyset ON day_results (local_date, grid_area, metering_point_type,
                                                settlement_method);

-- ... and one per hour of it, the drill-down.
CREATE TABLE hour_results (
    grid_area           text        NOT NULL,
    local_date          date        NOT NULL,
    metering_point_type text        NOT NULL,
    settlement_method   text        NOT NULL,
    position            integer     NOT NULL,  -- the hour of the local day, from 0
    hour_start          timestamptz NOT NULL,
    status              text        NOT NULL,
    datahub_kwh         numeric(14, 3),
    ours_kwh            numeric(14, 3),
    deviation_kwh       numeric(14, 3),
    deviation_percent   numeric(9, 2),
    points              integer     NOT NULL,
    points_missing      integer     NOT NULL,
    PRIMARY KEY (grid_area, local_date, metering_point_type, settlement_method, position),
    FOREIGN KEY (grid_area, local_date, metering_point_type, settlement_method)
        REFERENCES day_results ON DELETE CASCADE
);
