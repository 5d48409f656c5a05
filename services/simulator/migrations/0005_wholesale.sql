-- Wholesale settlement (RSM-019 NotifyWholesaleServices) in the daily generation.

-- The energy sent per local day, grid area, metering point type and settlement method (our
-- consumption points), hour by hour in watt-hours, corrections applied when they are sent:
-- what DataHub's wholesale settlement of the month prices. metering_points: how many points
-- were sent that day (a subscription's quantity).
CREATE TABLE wholesale_hours (
    local_date          date     NOT NULL REFERENCES generated_day ON DELETE CASCADE
                                 DEFERRABLE INITIALLY DEFERRED,
    grid_area           text     NOT NULL,
    metering_point_type text     NOT NULL,
    settlement_method   text     NOT NULL,  -- '' when the points have none
    hourly_wh           bigint[] NOT NULL,
    metering_points     integer  NOT NULL,
    PRIMARY KEY (local_date, grid_area, metering_point_type, settlement_method)
);

-- The RSM-019 documents the month-end generation queued (one per grid area and charge), with
-- any injected wholesale_deviation.
CREATE TABLE generated_wholesale (
    billing_period   text           NOT NULL,  -- YYYY-MM (Danish local month)
    grid_area        text           NOT NULL,
    charge_owner_gln text           NOT NULL,
    charge_type      text           NOT NULL,
    charge_id        text           NOT NULL,
    local_date       date           NOT NULL,  -- the generated day that queued it
    message_id       text           NOT NULL,
    amount_dkk       numeric(18, 6) NOT NULL,  -- the sum of the amounts queued
    deviation_dkk    numeric(18, 6),           -- set when wholesale_deviation hit
    PRIMARY KEY (billing_period, grid_area, charge_owner_gln, charge_type, charge_id)
);

ALTER TABLE generated_log DROP CONSTRAINT generated_log_kind_check;
ALTER TABLE generated_log ADD CONSTRAINT generated_log_kind_check CHECK (kind IN (
    'measure', 'correction', 'aggregation', 'charge_information', 'charge_prices', 'charge_links',
    'wholesale'
));
