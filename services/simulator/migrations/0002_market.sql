-- The simulated market: metering points, what the daily generation has queued, estimates
-- awaiting correction, and the supplier's open business processes (BRS-001 / BRS-009).

-- Metering points DataHub knows. Seeded in bulk (seed.py); `seed`/`seed_index` say which
-- seeded stream produced the row. Profile and annual volume drive the generated values.
CREATE TABLE metering_point (
    gsrn                text PRIMARY KEY CHECK (gsrn ~ '^57[0-9]{16}$'),
    grid_area           text    NOT NULL CHECK (grid_area ~ '^[0-9]{3}$'),
    price_area          text    NOT NULL CHECK (price_area IN ('DK1', 'DK2')),
    metering_point_type text    NOT NULL CHECK (metering_point_type IN ('E17', 'E18')),
    settlement_method   text    NOT NULL CHECK (settlement_method IN ('D01', 'E02')),
    resolution          text    NOT NULL CHECK (resolution IN ('PT1H', 'PT15M')),
    profile             text    NOT NULL CHECK (profile IN ('household', 'business', 'solar')),
    annual_kwh          integer NOT NULL CHECK (annual_kwh > 0),
    supplier_gln        text CHECK (supplier_gln ~ '^[0-9]{13}$'),  -- NULL: no supplier
    supply_start        timestamptz,
    dar_id              uuid    NOT NULL,
    -- SHA-256 of "<scheme>:<CPR/CVR>" of the registered customer: the number itself is never
    -- stored (the simulator only needs to compare it with a request's).
    customer_key        text,
    blocked             boolean NOT NULL DEFAULT false,  -- blocked for switching (E22)
    seed                integer NOT NULL,
    seed_index          integer NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metering_point_dar ON metering_point (dar_id);
CREATE INDEX metering_point_supplier ON metering_point (supplier_gln, gsrn);

-- One row per Danish local day the generation has queued, written in the same transaction
-- as that day's documents: a day is generated exactly once, even across restarts.
CREATE TABLE generated_day (
    local_date   date PRIMARY KEY,
    day_start    timestamptz NOT NULL,
    day_end      timestamptz NOT NULL,
    duration_ms  integer     NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now()
);

-- What a generated day queued, per category and kind (measure, correction, aggregation).
CREATE TABLE generated_log (
    local_date date    NOT NULL REFERENCES generated_day ON DELETE CASCADE,
    category   text    NOT NULL,
    kind       text    NOT NULL CHECK (kind IN ('measure', 'correction', 'aggregation')),
    documents  integer NOT NULL,
    series     integer NOT NULL,
    PRIMARY KEY (local_date, category, kind)
);

-- RSM-014 totals as queued, per day and grid area, with any injected deviation.
CREATE TABLE generated_aggregate (
    local_date         date    NOT NULL REFERENCES generated_day ON DELETE CASCADE,
    grid_area          text    NOT NULL,
    message_id         text    NOT NULL,
    transaction_id     text    NOT NULL,
    metering_points    integer NOT NULL,
    total_kwh          numeric(18, 3) NOT NULL,  -- sum of the RSM-012 values sent
    sent_total_kwh     numeric(18, 3) NOT NULL,  -- sum of the RSM-014 points queued
    deviation_position integer,                  -- set when aggregation_deviation hit
    deviation_kwh      numeric(18, 3),
    PRIMARY KEY (local_date, grid_area)
);

-- RSM-012 series sent with estimated (A03) values, until the next generated day queues
-- their correction (all A04, originalTransactionIDReference = transaction_id).
CREATE TABLE estimated_series (
    gsrn                      text NOT NULL,
    local_date                date NOT NULL,
    transaction_id            text NOT NULL,
    first_position            integer NOT NULL,  -- 1-based, inclusive
    last_position             integer NOT NULL,  -- 1-based, inclusive
    corrected_on              date,              -- the generated day that sent the correction
    correction_transaction_id text,
    PRIMARY KEY (gsrn, local_date)
);
CREATE INDEX estimated_series_pending ON estimated_series (local_date) WHERE corrected_on IS NULL;

-- RSM-001 requests DataHub answered (confirmed or rejected). A confirmed one stays open
-- until its effective date passes on the simulated clock, then its master data is queued.
CREATE TABLE market_process (
    process_reference       text PRIMARY KEY,
    process_type            text        NOT NULL,  -- E03 change of supplier, E65 move-in
    gsrn                    text        NOT NULL,
    request_message_id      text        NOT NULL,
    request_transaction_id  text        NOT NULL,
    supplier_gln            text        NOT NULL,
    balance_responsible_gln text,
    customer_key            text,
    effective_start         timestamptz NOT NULL,
    state                   text        NOT NULL CHECK (state IN ('open', 'completed', 'rejected')),
    reasons                 text[]      NOT NULL DEFAULT '{}',
    previous_supplier_gln   text,
    received_at             timestamptz NOT NULL DEFAULT now(),
    completed_at            timestamptz
);
CREATE UNIQUE INDEX market_process_one_open ON market_process (gsrn) WHERE state = 'open';
CREATE INDEX market_process_due ON market_process (effective_start) WHERE state = 'open';
