-- Wholesale reconciliation: DataHub's RSM-019 per charge, what our settlements billed per
-- charge, and the results per grid area, month and charge.

-- DataHub's side: one row per grid area, month and charge; replaced only by a settlement
-- version ranked at least as high (a correction settlement over wholesale fixing).
CREATE TABLE wholesale_datahub (
    grid_area          text          NOT NULL,
    billing_period     text          NOT NULL,  -- YYYY-MM (local)
    charge_owner_gln   text          NOT NULL,
    charge_type        text          NOT NULL,
    charge_id          text          NOT NULL,
    amount_dkk         numeric(18, 6) NOT NULL,
    version_rank       integer       NOT NULL,
    datahub_message_id text          NOT NULL,
    received_at        timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (grid_area, billing_period, charge_owner_gln, charge_type, charge_id)
);

-- Our settlements' grid areas (a correction names only its settlement).
CREATE TABLE wholesale_settlements (
    settlement_id  text PRIMARY KEY,
    grid_area      text NOT NULL,
    billing_period text NOT NULL
);

-- What each settlement or correction (source_id) billed per charge.
CREATE TABLE wholesale_billed (
    source_id        text           NOT NULL,  -- settlement_id or correction_id
    settlement_id    text           NOT NULL,
    billing_period   text           NOT NULL,
    charge_owner_gln text           NOT NULL,
    charge_type      text           NOT NULL,
    charge_id        text           NOT NULL,
    amount_dkk       numeric(18, 6) NOT NULL,
    PRIMARY KEY (source_id, charge_owner_gln, charge_type, charge_id)
);
CREATE INDEX wholesale_billed_settlement ON wholesale_billed (settlement_id);

-- Grid-area months whose inputs changed since they were last reconciled.
CREATE TABLE wholesale_pending (
    grid_area      text NOT NULL,
    billing_period text NOT NULL,
    PRIMARY KEY (grid_area, billing_period)
);

CREATE TABLE wholesale_results (
    grid_area         text           NOT NULL,
    billing_period    text           NOT NULL,
    charge_owner_gln  text           NOT NULL,
    charge_type       text           NOT NULL,
    charge_id         text           NOT NULL,
    status            text           NOT NULL
        CHECK (status IN ('matched', 'deviation', 'missing_ours', 'missing_datahub')),
    datahub_dkk       numeric(18, 6),
    ours_dkk          numeric(18, 6),
    deviation_dkk     numeric(18, 6),
    deviation_percent numeric(9, 2),
    deviation_fingerprint text,  -- what was last raised as reconciliation.wholesale_deviation
    reconciled_at     timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (grid_area, billing_period, charge_owner_gln, charge_type, charge_id)
);
CREATE INDEX wholesale_results_keyset ON wholesale_results (billing_period, grid_area,
    charge_owner_gln, charge_type, charge_id);
