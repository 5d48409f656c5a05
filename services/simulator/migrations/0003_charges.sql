-- Charges (RSM-034 price lists, RSM-031 charge links) in the daily generation.

-- The generated log also counts the Wholesale documents of a day.
ALTER TABLE generated_log DROP CONSTRAINT generated_log_kind_check;
ALTER TABLE generated_log ADD CONSTRAINT generated_log_kind_check CHECK (kind IN (
    'measure', 'correction', 'aggregation', 'charge_information', 'charge_prices', 'charge_links'
));

-- Charge links sent (RSM-031) per metering point and supply start: a point gets its links
-- once per supply period, on the first generated day it is ours.
CREATE TABLE charge_link_sent (
    gsrn           text        NOT NULL,
    supply_start   timestamptz NOT NULL,
    local_date     date        NOT NULL,
    transaction_id text        NOT NULL,
    PRIMARY KEY (gsrn, supply_start)
);
