-- Portfolio imports (the go-live migration from an old CIS) and signups whose supply ended.

-- A signup whose supply ended (another supplier, a move-out, end of supply, an erroneous switch
-- rolled back) says so: status 'ended', why (the offboarding reason) and from when (exclusive).
ALTER TABLE signup DROP CONSTRAINT signup_status_check;
ALTER TABLE signup ADD CONSTRAINT signup_status_check
    CHECK (status IN ('registered', 'processing', 'active', 'rejected', 'cancelled', 'ended'));
ALTER TABLE signup ADD COLUMN end_reason text
    CHECK (end_reason IN ('move_out', 'end_of_supply', 'switched_away', 'erroneous_switch'));
ALTER TABLE signup ADD COLUMN end_date date;
ALTER TABLE signup ADD CONSTRAINT signup_ended_says_why
    CHECK ((status = 'ended') = (end_reason IS NOT NULL AND end_date IS NOT NULL));

-- One upload of a portfolio CSV and its report (no personal data: line, external id, reasons).
CREATE TABLE portfolio_import (
    import_id        uuid PRIMARY KEY,
    received_at      timestamptz NOT NULL,
    finished_at      timestamptz,
    row_count        integer NOT NULL CHECK (row_count >= 0),
    imported         integer NOT NULL DEFAULT 0,
    already_imported integer NOT NULL DEFAULT 0,
    rejected         integer NOT NULL DEFAULT 0,
    errors           jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX portfolio_import_received ON portfolio_import (received_at DESC);

-- A row of the old CIS imported once: its external id is the idempotency key, so a re-run of
-- the same file (or an overlapping one) imports nothing twice.
CREATE TABLE imported_row (
    external_id      text PRIMARY KEY,
    import_id        uuid NOT NULL REFERENCES portfolio_import,
    line             integer NOT NULL,
    gsrn             text NOT NULL CHECK (gsrn ~ '^57[0-9]{16}$'),
    supply_period_id uuid REFERENCES supply_period,
    contract_id      uuid REFERENCES contract,
    customer_id      uuid REFERENCES party,
    payer_id         uuid REFERENCES party,
    payer_external_id text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imported_row_gsrn ON imported_row (gsrn);
CREATE INDEX imported_row_period ON imported_row (supply_period_id);
