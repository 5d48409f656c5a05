-- Products, customers and payers, signups, BRS processes with their timeline, supply periods
-- and contracts. Personal data is sealed (Fernet, PII_KEY) and found by blind indexes (HMAC).

CREATE TABLE product (
    product_id    uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    description   text NOT NULL DEFAULT '',
    green_energy  boolean NOT NULL DEFAULT false,
    display_order integer NOT NULL DEFAULT 100,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A price change is a new version from a Danish local date; contracts keep the version they
-- signed until they are changed. No binding period: not allowed in the Danish market.
CREATE TABLE product_version (
    product_id                 uuid NOT NULL REFERENCES product,
    version                    integer NOT NULL CHECK (version >= 1),
    valid_from                 date NOT NULL,
    price_type                 text NOT NULL CHECK (price_type IN ('spot', 'fixed')),
    margin_dkk_per_kwh         numeric(18, 6) NOT NULL,
    fixed_price_dkk_per_kwh    numeric(18, 6),
    subscription_dkk_per_month numeric(18, 6) NOT NULL CHECK (subscription_dkk_per_month >= 0),
    created_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, version),
    UNIQUE (product_id, valid_from),
    CHECK ((price_type = 'fixed') = (fixed_price_dkk_per_kwh IS NOT NULL))
);

-- Customers (hold the contract) and payers (pay the invoice). One row per CPR/CVR and role;
-- `sealed` opens to name, CPR/CVR, e-mail, phone and postal address.
CREATE TABLE party (
    party_id       uuid PRIMARY KEY,
    role           text NOT NULL CHECK (role IN ('customer', 'payer')),
    contact_type   text NOT NULL CHECK (contact_type IN ('private', 'business')),
    cpr_cvr_index  text NOT NULL,
    cpr_cvr_masked text NOT NULL,
    name_index     text NOT NULL,
    email_index    text,
    sealed         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (role, cpr_cvr_index)
);
CREATE INDEX party_cpr_cvr ON party (cpr_cvr_index);
CREATE INDEX party_name ON party (name_index);
CREATE INDEX party_email ON party (email_index);

CREATE SEQUENCE signup_number;

CREATE TABLE signup (
    signup_id       text PRIMARY KEY,
    idempotency_key text UNIQUE,
    request_index   text NOT NULL,  -- blind index of the request body (idempotency check)
    request_sealed  text NOT NULL,  -- the request as submitted, for a corrected re-submission
    dar_id          uuid NOT NULL,
    gsrn            text NOT NULL CHECK (gsrn ~ '^57[0-9]{16}$'),
    customer_id     uuid NOT NULL REFERENCES party,
    payer_id        uuid REFERENCES party,
    product_id      uuid NOT NULL,
    product_version integer NOT NULL,
    type            text NOT NULL CHECK (type IN ('switch', 'move_in')),
    effective_date  date NOT NULL,
    status          text NOT NULL
        CHECK (status IN ('registered', 'processing', 'active', 'rejected', 'cancelled')),
    rejection_reason text,
    process_id      uuid NOT NULL UNIQUE,
    resubmission_of text REFERENCES signup,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (product_id, product_version) REFERENCES product_version
);
CREATE INDEX signup_status ON signup (status, created_at DESC);
CREATE INDEX signup_created ON signup (created_at DESC);
CREATE INDEX signup_gsrn ON signup (gsrn);
CREATE INDEX signup_customer ON signup (customer_id);
CREATE UNIQUE INDEX signup_one_resubmission ON signup (resubmission_of);

CREATE TABLE supply_period (
    supply_period_id uuid PRIMARY KEY,
    gsrn             text NOT NULL,
    customer_id      uuid NOT NULL REFERENCES party,
    start_date       date NOT NULL,
    end_date         date CHECK (end_date IS NULL OR end_date >= start_date),
    status           text NOT NULL CHECK (status IN ('active', 'ended', 'rolled_back')),
    end_reason       text,
    signup_id        text REFERENCES signup,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supply_period_gsrn ON supply_period (gsrn, start_date);
CREATE INDEX supply_period_customer ON supply_period (customer_id);
-- We supply a metering point under one open (not yet ended) period at a time.
CREATE UNIQUE INDEX supply_period_one_open ON supply_period (gsrn)
    WHERE status = 'active' AND end_date IS NULL;

CREATE TABLE contract (
    contract_id       uuid PRIMARY KEY,
    supply_period_id  uuid NOT NULL REFERENCES supply_period,
    gsrn              text NOT NULL,
    customer_id       uuid NOT NULL REFERENCES party,
    payer_id          uuid REFERENCES party,
    product_id        uuid NOT NULL,
    product_version   integer NOT NULL,
    start_date        date NOT NULL,
    end_date          date CHECK (end_date IS NULL OR end_date >= start_date),
    billing_frequency text NOT NULL CHECK (billing_frequency IN ('monthly', 'quarterly')),
    payment_model     text NOT NULL CHECK (payment_model IN ('aconto', 'arrears')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (product_id, product_version) REFERENCES product_version
);
CREATE INDEX contract_period ON contract (supply_period_id, start_date);
CREATE INDEX contract_customer ON contract (customer_id);

-- A BRS process we run at DataHub. Its request ids are fixed at creation, so DataHub's answer
-- (which names the transaction id) always finds it, whatever order events arrive in.
CREATE TABLE process (
    process_id            uuid PRIMARY KEY,
    kind                  text NOT NULL
        CHECK (kind IN ('BRS-001', 'BRS-002', 'BRS-003', 'BRS-009', 'BRS-010', 'BRS-011')),
    gsrn                  text NOT NULL,
    effective_date        date NOT NULL,
    status                text NOT NULL,
    status_before_cancel  text,
    signup_id             text,
    supply_period_id      uuid REFERENCES supply_period,
    customer_id           uuid REFERENCES party,
    request_id            text NOT NULL UNIQUE,
    transaction_id        text NOT NULL UNIQUE,
    cancel_request_id     text UNIQUE,
    cancel_transaction_id text UNIQUE,
    datahub_reference     text,
    reasons               text[] NOT NULL DEFAULT '{}',
    send_after            timestamptz NOT NULL,
    raised_at             timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
-- One open process per metering point: a second signup (or move-out) for it is refused.
CREATE UNIQUE INDEX process_one_open_per_gsrn ON process (gsrn)
    WHERE status NOT IN ('completed', 'rejected', 'cancelled');
CREATE INDEX process_to_raise ON process (send_after) WHERE raised_at IS NULL AND status = 'pending';
CREATE INDEX process_due ON process (effective_date) WHERE status = 'effectuation_pending';
CREATE INDEX process_gsrn ON process (gsrn, created_at DESC);

-- The timeline of a process: every status it passed and why.
CREATE TABLE process_event (
    id         bigserial PRIMARY KEY,
    process_id uuid NOT NULL REFERENCES process,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    status     text NOT NULL,
    source     text NOT NULL,
    detail     text
);
CREATE INDEX process_event_process ON process_event (process_id, id);
