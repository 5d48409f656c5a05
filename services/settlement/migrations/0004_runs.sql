-- Settlement runs, the settlements they produce, and corrections (adjustments) to them.

CREATE TABLE settlement_run (
    run_id          uuid PRIMARY KEY,
    billing_period  text NOT NULL CHECK (billing_period ~ '^[0-9]{4}-[0-9]{2}$'),
    grid_area       text,
    trigger         text NOT NULL CHECK (trigger IN ('schedule', 'retry', 'api', 'cli')),
    status          text NOT NULL
        CHECK (status IN ('queued', 'running', 'completed', 'blocked', 'failed')),
    total_items     integer NOT NULL DEFAULT 0,
    done_items      integer NOT NULL DEFAULT 0,
    settled_items   integer NOT NULL DEFAULT 0,
    blocked_items   integer NOT NULL DEFAULT 0,
    reason          text,
    lease_owner     text,
    lease_until     timestamptz,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX settlement_run_period ON settlement_run (billing_period, requested_at DESC);
CREATE INDEX settlement_run_todo ON settlement_run (requested_at) WHERE status IN ('queued', 'running');
-- The schedule starts a billing period's run once.
CREATE UNIQUE INDEX settlement_run_scheduled ON settlement_run (billing_period)
    WHERE trigger = 'schedule';

-- What a run could not settle, and why (missing data or prices): settled by a later run.
CREATE TABLE settlement_blocked (
    run_id           uuid NOT NULL REFERENCES settlement_run,
    gsrn             text NOT NULL,
    supply_period_id uuid NOT NULL,
    reason           text NOT NULL,
    PRIMARY KEY (run_id, supply_period_id)
);

-- One settlement per supply period and billing period: a re-run finds it and does nothing.
-- `lines` etc. hold the figures as first settled; `current_*` what the data settles to now
-- (first settlement plus every correction).
CREATE TABLE settlement (
    settlement_id     uuid PRIMARY KEY,
    run_id            uuid NOT NULL REFERENCES settlement_run,
    gsrn              text NOT NULL,
    customer_id       uuid NOT NULL,
    supply_period_id  uuid NOT NULL,
    billing_period    text NOT NULL,
    grid_area         text NOT NULL,
    price_area        text NOT NULL,
    period_start      date NOT NULL,
    period_end        date NOT NULL,
    consumption_kwh   numeric(14, 3) NOT NULL,
    lines             jsonb NOT NULL,
    subtotal          numeric(14, 2) NOT NULL,
    vat               numeric(14, 2) NOT NULL,
    total             numeric(14, 2) NOT NULL,
    current_start     date NOT NULL,
    current_end       date NOT NULL,
    current_lines     jsonb NOT NULL,
    current_subtotal  numeric(14, 2) NOT NULL,
    current_vat       numeric(14, 2) NOT NULL,
    current_total     numeric(14, 2) NOT NULL,
    current_consumption_kwh numeric(14, 3) NOT NULL,
    data_id           bigint NOT NULL,  -- the newest metering-data row it was settled from
    credited          boolean NOT NULL DEFAULT false,
    invoice_id        text,
    invoiced_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (supply_period_id, billing_period)
);
CREATE INDEX settlement_by_run ON settlement (run_id, gsrn);
CREATE INDEX settlement_gsrn ON settlement (gsrn, period_start);
CREATE INDEX settlement_uninvoiced ON settlement (created_at) WHERE invoiced_at IS NULL;

-- A delta to a settlement: added to it (and earlier corrections), it gives `current_*`.
CREATE TABLE settlement_correction (
    correction_id   uuid PRIMARY KEY,
    settlement_id   uuid NOT NULL REFERENCES settlement,
    reason          text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    consumption_kwh numeric(14, 3) NOT NULL,
    lines           jsonb NOT NULL,
    subtotal        numeric(14, 2) NOT NULL,
    vat             numeric(14, 2) NOT NULL,
    total           numeric(14, 2) NOT NULL,
    data_id         bigint NOT NULL,
    invoice_id      text,
    invoiced_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlement_correction_settlement ON settlement_correction (settlement_id, created_at);
CREATE INDEX settlement_correction_uninvoiced ON settlement_correction (created_at)
    WHERE invoiced_at IS NULL;

-- Metering points whose settled periods must be looked at again (new data, a changed supply
-- period); the correction job takes them in order.
CREATE TABLE settlement_recheck (
    gsrn        text PRIMARY KEY,
    reason      text NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now()  -- not before (a blocked recheck waits)
);

-- How far the correction job has read the metering data (one row).
CREATE TABLE settlement_watermark (
    name    text PRIMARY KEY,
    data_id bigint NOT NULL
);
